"""The estimation job (VEE): estimated readings for the gaps of every meter in a range.

Each meter's actual readings (with ``lookback_days`` of history before the range, for like
days, and ``max_interval_days`` after it, for the reading that closes a gap) go through
:func:`batch_app.estimation.estimate_meter` once per meter (``applyInPandas``). The
estimates are written as rows of ``readings_by_meter_day`` (and by transformer) with
quality ``E``, their ``estimation_method``, and status ``estimated``, only at timestamps
where no actual reading was stored.

An estimate never replaces an actual reading, even one that arrives while the job runs:
the rows are written with the time the job started reading as their Cassandra write time,
so an actual reading stored after that (by the streaming app, with the current time)
wins whichever write lands last, and one stored before it was read and left no gap there.
Cassandra settles this cell by cell: the actual reading's values, quality and status win,
while the ``estimation_method`` cell, which the app never writes, may keep a method;
``quality`` says what a row is, and a method means something only on a row of quality
``E``. Re-running the job over the same readings writes the same values.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as midnight
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

from batch_app.estimation import ESTIMATE_SCHEMA, MethodPolicy, estimate_meter
from batch_app.jobs.context import JobContext
from smart_meter.spark.cassandra import write_table

ESTIMATED_STATUS = "estimated"


@dataclass(frozen=True)
class EstimateSummary:
    estimated: int
    by_method: dict[str, int] = field(default_factory=dict)
    meters: int = 0


def local_midnight_ms(day: date, zone: str) -> int:
    return int(datetime.combine(day, midnight(), ZoneInfo(zone)).timestamp() * 1000)


def grid_positions(readings: DataFrame) -> DataFrame:
    """Each meter's newest transformer and line."""
    newest = Window.partitionBy("meter_id").orderBy(F.col("ts_ms").desc())
    ranked = readings.withColumn("_rank", F.row_number().over(newest))
    return ranked.where(F.col("_rank") == 1).select("meter_id", "transformer_id", "line_id")


def estimates(context: JobContext, readings: DataFrame) -> DataFrame:
    """``meter_id`` plus :data:`ESTIMATE_SCHEMA` for every missing reading of the range."""
    settings = context.settings
    failed = F.coalesce(F.col("failed_rules"), F.array().cast("array<string>"))
    actual = readings.where(
        (F.col("quality") == "A") & ~F.array_contains(failed, settings.register_rule_id)
    ).select("meter_id", F.col("ts_ms").alias("ts"), "import_wh")
    first_ms = local_midnight_ms(context.first_day, settings.time_zone)
    last_ms = local_midnight_ms(context.last_day + timedelta(days=1), settings.time_zone) - 1
    zone, limit_ms = settings.time_zone, settings.linear_limit_minutes * 60_000
    policy = MethodPolicy(like_days=settings.like_days, max_weeks=settings.lookback_days // 7)

    def per_meter(key: tuple[Any, ...], frame: pd.DataFrame) -> pd.DataFrame:
        found = estimate_meter(
            frame, first_ms=first_ms, last_ms=last_ms, time_zone=zone,
            linear_limit_ms=limit_ms, policy=policy,
        )  # fmt: skip
        found.insert(0, "meter_id", key[0])
        return found

    schema = f"meter_id string, {ESTIMATE_SCHEMA}"
    return actual.groupBy("meter_id").applyInPandas(per_meter, schema)


def estimated_rows(found: DataFrame, positions: DataFrame) -> DataFrame:
    """Rows of ``readings_by_meter_day``: quality ``E`` with the method."""
    ts = F.timestamp_millis(F.col("ts"))
    return found.join(positions, "meter_id", "left").select(
        "meter_id",
        F.to_date(ts).alias("day"),
        ts.alias("ts"),
        "transformer_id",
        "line_id",
        "import_wh",
        F.lit("E").alias("quality"),
        F.col("method").alias("estimation_method"),
        F.lit(ESTIMATED_STATUS).alias("status"),
    )


def run(context: JobContext) -> EstimateSummary:
    say, settings = context.say, context.settings
    read_started_us = time.time_ns() // 1_000
    say(f"estimate: reading {context.first_day}..{context.last_day} with history")
    readings = context.readings(
        before_days=settings.lookback_days, after_days=settings.max_interval_days
    ).persist()
    rows = estimated_rows(estimates(context, readings), grid_positions(readings)).persist()
    by_method = Counter(
        {r["estimation_method"]: r["n"] for r in rows.groupBy("estimation_method").count()
         .withColumnRenamed("count", "n").collect()}
    )  # fmt: skip
    total = sum(by_method.values())
    say(f"estimate: {total} readings to estimate; writing as quality E")
    if total:
        ks = context.keyspace
        write_table(rows, ks, "readings_by_meter_day", timestamp_us=read_started_us)
        by_transformer = rows.where(F.col("transformer_id").isNotNull())
        write_table(by_transformer, ks, "readings_by_transformer_day", read_started_us)
    context.count("estimated readings", total)
    meters = rows.select("meter_id").distinct().count() if total else 0
    rows.unpersist()
    readings.unpersist()
    return EstimateSummary(total, dict(sorted(by_method.items())), meters)
