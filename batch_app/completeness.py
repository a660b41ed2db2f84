"""Completeness per meter and local day: intervals expected against readings received.

Each meter's interval is its own, inferred from its readings (the most common step
between consecutive actual readings, snapped to 1, 5, 10, 15, 30 or 60 minutes). The
intervals a local day expects follow from the day's length in the zone: at half-hourly
reads 48 on most days, 46 on the day clocks go forward and 50 on the day they go back.
A meter is expected from its first reading seen (in the range or the week before it) to
the end of the range or the data horizon, whichever comes first (the newest reading of
any meter: nothing later can have arrived yet), so a meter that falls silent shows days
at 0 %, and a day still in progress is judged on its hours so far.
"""

from __future__ import annotations

import itertools
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F  # noqa: N812

MINUTE_MS = 60_000
STANDARD_INTERVALS_MIN = (1, 5, 10, 15, 30, 60)


def snap_interval(step_ms: Column) -> Column:
    """The standard interval nearest a measured step (boundaries halfway between them)."""
    snapped = F.lit(STANDARD_INTERVALS_MIN[-1] * MINUTE_MS)
    for minutes, following in reversed(list(itertools.pairwise(STANDARD_INTERVALS_MIN))):
        snapped = F.when(
            step_ms <= (minutes + following) * MINUTE_MS / 2, minutes * MINUTE_MS
        ).otherwise(snapped)
    return snapped.cast("long")


def meter_intervals(actual: DataFrame) -> DataFrame:
    """``meter_id, interval_ms``: each meter's most common step, snapped."""
    by_meter = Window.partitionBy("meter_id").orderBy("ts_ms")
    steps = actual.select(
        "meter_id", (F.col("ts_ms") - F.lag("ts_ms").over(by_meter)).alias("step")
    )
    counted = steps.where(F.col("step") > 0).groupBy("meter_id", "step").count()
    ranked = counted.withColumn(
        "_rank",
        F.row_number().over(
            Window.partitionBy("meter_id").orderBy(F.col("count").desc(), F.col("step"))
        ),
    )
    best = ranked.where(F.col("_rank") == 1)
    return best.select("meter_id", snap_interval(F.col("step")).alias("interval_ms"))


def local_day(ts_ms: Column, zone: str) -> Column:
    return F.to_date(F.from_utc_timestamp(F.timestamp_millis(ts_ms), zone))


def midnight_ms(day: Column, zone: str) -> Column:
    return F.unix_millis(F.to_utc_timestamp(F.to_timestamp(day), zone))


def completeness(
    readings: DataFrame, zone: str, first_day: date, last_day: date, horizon_ms: int
) -> DataFrame:
    """``meter_id, month, day, interval_minutes, expected, received, estimated,
    completeness`` for every meter seen and local day from its first reading to ``last_day``
    (days after ``horizon_ms``, the newest reading there is, expect nothing and are left out)."""
    dated = readings.withColumn("local_day", local_day(F.col("ts_ms"), zone))
    actual = dated.where(F.col("quality") == "A")
    intervals = meter_intervals(actual)
    first_seen = dated.groupBy("meter_id").agg(
        F.min("local_day").alias("seen"), F.min("ts_ms").alias("seen_ms")
    )
    start = F.greatest(F.col("seen"), F.lit(first_day))
    meter_days = first_seen.where(F.col("seen") <= F.lit(last_day)).select(
        "meter_id", "seen_ms", F.explode(F.sequence(start, F.lit(last_day))).alias("day")
    )
    counts = (
        dated.where(F.col("local_day").between(F.lit(first_day), F.lit(last_day)))
        .groupBy("meter_id", F.col("local_day").alias("day"))
        .agg(
            F.count_distinct(F.when(F.col("quality") == "A", F.col("ts_ms"))).alias("received"),
            F.count_distinct(F.when(F.col("quality") == "E", F.col("ts_ms"))).alias("estimated"),
        )
    )
    joined = meter_days.join(intervals, "meter_id").join(counts, ["meter_id", "day"], "left")
    since = F.greatest(midnight_ms(F.col("day"), zone), F.col("seen_ms"))
    until = F.least(midnight_ms(F.date_add(F.col("day"), 1), zone) - 1, F.lit(horizon_ms))
    slots = F.floor((until - since) / F.col("interval_ms")).cast("int") + 1
    expected = F.when(until >= since, slots).otherwise(F.lit(0))
    received = F.coalesce(F.col("received"), F.lit(0)).cast("int")
    joined = joined.where(expected > 0)
    return joined.select(
        "meter_id",
        F.trunc("day", "month").alias("month"),
        "day",
        (F.col("interval_ms") / MINUTE_MS).cast("int").alias("interval_minutes"),
        expected.alias("expected"),
        received.alias("received"),
        F.coalesce(F.col("estimated"), F.lit(0)).cast("int").alias("estimated"),
        (F.least(received, expected) / expected).alias("completeness"),
    )
