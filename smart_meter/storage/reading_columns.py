"""The columns of the two reading tables, as the streaming app writes them: one list for
the app's sinks and for the benchmark's and demo's sink limit, which writes the same rows."""

from __future__ import annotations

READING_FLAG_COLUMNS = (
    "seq",
    "import_wh",
    "voltage_v",
    "current_a",
    "temperature_c",
    "line_id",
    "usage_point_id",
    "quality",
    "failed_rules",
    "lateness",
    "status",
    "ingested_at",
)
"""The reading's fields and its quality flags, after each table's key."""
BY_METER_TABLE, BY_METER_KEY = "readings_by_meter_day", ("meter_id", "day", "ts", "transformer_id")
BY_TRANSFORMER_TABLE = "readings_by_transformer_day"
BY_TRANSFORMER_KEY = ("transformer_id", "day", "meter_id", "ts")
READING_TABLES: dict[str, tuple[str, ...]] = {
    BY_METER_TABLE: BY_METER_KEY + READING_FLAG_COLUMNS,
    BY_TRANSFORMER_TABLE: BY_TRANSFORMER_KEY + READING_FLAG_COLUMNS,
}
