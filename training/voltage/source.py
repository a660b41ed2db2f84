"""What the voltage jobs read from Cassandra: readings, and the episodes the streaming app
stored (``voltage_events_by_meter``, a meter-month per partition)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from smart_meter.spark.cassandra import days_between, read_readings, table

EVENTS_TABLE = "voltage_events_by_meter"


def readings(
    spark: SparkSession, keyspace: str, first: date, last: date, meters: Sequence[str] | None
) -> DataFrame:
    return read_readings(spark, keyspace, first, last, meters).select(
        "meter_id", "transformer_id", "ts_ms", "voltage_v", "temperature_c", "import_wh"
    )


def episodes(
    spark: SparkSession, keyspace: str, first: date, last: date, meters: Sequence[str] | None
) -> DataFrame:
    """Every stored episode starting on UTC days ``first..last``: ``meter_id, start_ms,
    end_ms`` (the length is checked by the labels, not here)."""
    rows = table(spark, keyspace, EVENTS_TABLE)
    if meters:
        months = sorted({d.replace(day=1) for d in days_between(first, last)})
        rows = rows.where(F.col("meter_id").isin(list(meters)) & F.col("month").isin(months))
    start = F.lit(first).cast("timestamp")
    end = F.lit(last + timedelta(days=1)).cast("timestamp")
    rows = rows.where((F.col("start_ts") >= start) & (F.col("start_ts") < end))
    return rows.select(
        "meter_id",
        (F.unix_micros("start_ts") / 1000).cast("long").alias("start_ms"),
        (F.unix_micros("end_ts") / 1000).cast("long").alias("end_ms"),
    )
