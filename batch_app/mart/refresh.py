"""Refresh the mart for a date range: one transaction that replaces the range's rows.

Every frame is checked first; then, in one transaction, the schema is made if missing,
each table's rows of the range are deleted and the new ones copied in (``COPY``). Running
the same refresh again leaves the same rows; a refresh that fails anywhere rolls back
and leaves the previous data; two refreshes at once take turns (an advisory lock).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from batch_app.mart.columns import Table
from batch_app.mart.connection import connect_mart
from batch_app.mart.ddl import ensure_schema
from batch_app.mart.errors import MartError
from batch_app.mart.frames import MartFrames, Row, all_rows
from batch_app.mart.tables import SCHEMA, TABLES
from batch_app.mart.window import RefreshWindow
from smart_meter.settings import ConnectionSettings

REFRESH_LOCK_ID = 0x5_3A47_3A27
"""Key of the transaction-level advisory lock that serialises refreshes."""


@dataclass(frozen=True)
class MartCounts:
    """What a refresh did, per table: rows of the range deleted, rows inserted."""

    window: RefreshWindow
    deleted: Mapping[str, int]
    inserted: Mapping[str, int]
    elapsed_s: float
    schema_updated: bool

    @property
    def rows(self) -> int:
        return sum(self.inserted.values())

    def line(self) -> str:
        return (
            f"mart {self.window.label()}: {self.rows:,} rows in {len(self.inserted)} tables "
            f"(replacing {sum(self.deleted.values()):,}) in {self.elapsed_s:.2f} s"
        )


def refresh_mart(
    connection_settings: ConnectionSettings,
    frames: MartFrames,
    first_day: date,
    last_day: date,
    *,
    time_zone: str = "UTC",
) -> MartCounts:
    """Replace the mart's rows of local days ``first_day..last_day`` with ``frames``.

    Monthly tables: the rows of every month the range touches. Gaps: those that start
    on a day of the range in ``time_zone`` (the zone of the batch's local days).
    """
    window = RefreshWindow(first_day, last_day, time_zone)
    rows = all_rows(frames, window)
    started = time.perf_counter()
    deleted: dict[str, int] = {}
    inserted: dict[str, int] = {}
    with connect_mart(connection_settings) as connection:
        try:
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (REFRESH_LOCK_ID,))
                created = ensure_schema(connection)
                for table in TABLES:
                    deleted[table.name] = delete_window(connection, table, window)
                    inserted[table.name] = copy_rows(connection, table, rows[table.name])
        except psycopg.Error as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise MartError(
                f"mart refresh {window.label()} failed and was rolled back, the previous "
                f"data stay: {first_line}"
            ) from error
    elapsed_s = time.perf_counter() - started
    return MartCounts(window, deleted, inserted, elapsed_s, created)


def delete_window(connection: psycopg.Connection[Any], table: Table, window: RefreshWindow) -> int:
    low, high = window.bounds(table.range_unit)
    column = sql.Identifier(table.range_column)
    statement = sql.SQL("DELETE FROM {} WHERE {} >= %s AND {} < %s").format(
        sql.Identifier(SCHEMA, table.name), column, column
    )
    return connection.execute(statement, (low, high)).rowcount


def copy_rows(connection: psycopg.Connection[Any], table: Table, rows: list[Row]) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(SCHEMA, table.name),
        sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names),
    )
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)
