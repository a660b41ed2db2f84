"""The mart's per-reading table: each stored reading of the range with its energy since
the meter's previous reading, its phase voltage extremes and its flags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

from batch_app.completeness import local_day
from batch_app.jobs.context import JobContext
from smart_meter.spark.cassandra import day_filter, table

COLUMNS = (
    "meter_id", "day", "ts", "import_wh", "voltage_v", "quality", "status", "lateness",
    "failed_rules",
)  # fmt: skip


def _extremes(voltage: str) -> tuple[Any, Any]:
    phases = F.filter(F.col(voltage), lambda v: v.isNotNull())
    has_phases = F.size(phases) > 0
    return (
        F.when(has_phases, F.array_min(phases)),
        F.when(has_phases, F.array_max(phases)),
    )


def mart_readings(context: JobContext) -> DataFrame:
    """Readings of the local days ``first_day..last_day`` (UTC partitions read one day
    either side, so the first reading of the range has its predecessor for energy)."""
    first, last, zone = context.first_day, context.last_day, context.settings.time_zone
    meters = context.meters
    rows = table(context.spark, context.keyspace, "readings_by_meter_day").select(*COLUMNS)
    if meters:
        rows = rows.where(F.col("meter_id").isin(list(meters)))
    rows = rows.where(
        day_filter("day", first - timedelta(days=1), last + timedelta(days=1), meters)
    )
    previous = F.lag("import_wh").over(Window.partitionBy("meter_id").orderBy("ts"))
    lowest, highest = _extremes("voltage_v")
    rows = (
        rows.withColumn("energy_wh", F.col("import_wh") - previous)
        .withColumn("voltage_min_v", lowest)
        .withColumn("voltage_max_v", highest)
        .withColumn(
            "failed_rules",
            F.coalesce(F.array_join(F.array_sort(F.col("failed_rules")), ","), F.lit("")),
        )
    )
    return rows.where(local_day(F.unix_millis("ts"), zone).between(F.lit(first), F.lit(last)))
