"""The reporting mart: batch results in PostgreSQL, for Excel, Power Query and ODBC.

``refresh_mart(connection_settings, frames, first_day, last_day)`` replaces, in one
transaction, the rows of that range in the tables of schema ``mart`` (daily and monthly
energy and cost per meter and per transformer, completeness, gaps, alerts, readings) with the
batch job's DataFrames (:class:`MartFrames`), creating the schema first if missing.
"""

from batch_app.mart.ddl import ensure_schema
from batch_app.mart.errors import MartError, MartFrameError, MartRangeError, MartUnreachableError
from batch_app.mart.frames import MartFrames
from batch_app.mart.refresh import MartCounts, refresh_mart
from batch_app.mart.tables import SCHEMA, TABLES
from batch_app.mart.window import RefreshWindow

__all__ = [
    "SCHEMA",
    "TABLES",
    "MartCounts",
    "MartError",
    "MartFrameError",
    "MartFrames",
    "MartRangeError",
    "MartUnreachableError",
    "RefreshWindow",
    "ensure_schema",
    "refresh_mart",
]
