"""The mart job: the batch tables and the app's gaps and alerts of a range, refreshed into
the PostgreSQL reporting mart (what Excel and Power Query reach over ODBC)."""

from __future__ import annotations

from calendar import monthrange
from datetime import timedelta

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812

from batch_app.completeness import local_day
from batch_app.energy import MWH_PER_KWH
from batch_app.errors import BatchError
from batch_app.jobs.context import JobContext
from batch_app.mart import TABLES as MART_TABLES
from batch_app.mart import MartCounts, MartFrames, refresh_mart
from smart_meter.spark.cassandra import read_range, table
from smart_meter.storage.schema import EVENT_BUCKETS


def _kwh(frame: DataFrame) -> DataFrame:
    return frame.withColumn("energy_kwh", F.col("energy_mwh") / MWH_PER_KWH)


def _pandas(frame: DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame.select(*columns).toPandas()


def mart_frames(context: JobContext) -> MartFrames:
    spark, ks, first, last, meters = (
        context.spark, context.keyspace, context.first_day, context.last_day, context.meters,
    )  # fmt: skip
    months = (first.replace(day=1), last.replace(day=1))
    month_end = last.replace(day=monthrange(last.year, last.month)[1])
    meter_days = _kwh(read_range(spark, ks, "energy_by_meter_day", "meter_id", first, last, meters))
    meter_months = table(spark, ks, "energy_by_meter_month").where(
        F.col("month").between(F.lit(months[0]), F.lit(months[1]))
    )
    transformer_days_of_months = _kwh(
        table(spark, ks, "load_by_transformer_day").where(
            F.col("day").between(F.lit(months[0]), F.lit(month_end))
        )
    )
    if meters:
        meter_months = meter_months.where(F.col("meter_id").isin(list(meters)))
        served = meter_days.select("transformer_id").distinct()
        transformer_days_of_months = transformer_days_of_months.join(
            served, "transformer_id", "left_semi"
        )
    transformer_days_of_months = transformer_days_of_months.persist()  # one scan, two uses
    transformer_days = transformer_days_of_months.where(
        F.col("day").between(F.lit(first), F.lit(last))
    )
    transformer_months = _kwh(
        transformer_days_of_months.groupBy("transformer_id", "month").agg(
            F.sum("energy_mwh").alias("energy_mwh"),
            F.sum("cost").alias("cost"),
            F.first("currency").alias("currency"),
        )
    )
    completeness = read_range(
        spark, ks, "completeness_by_meter_day", "meter_id", first, last, meters
    )
    gaps = table(spark, ks, "gaps_by_meter").where(
        F.col("month").between(F.lit(months[0]), F.lit(months[1]))
        & local_day(F.unix_millis("start_ts"), context.settings.time_zone).between(
            F.lit(first), F.lit(last)
        )
    )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    alerts = table(spark, ks, "alerts_by_day").where(
        F.col("day").isin(days) & F.col("bucket").isin(list(range(EVENT_BUCKETS)))
    )
    if meters:
        gaps = gaps.where(F.col("meter_id").isin(list(meters)))
        alerts = alerts.where(F.col("meter_id").isin(list(meters)))
    spark_frames = {
        "meter_daily": meter_days.withColumnRenamed("intervals", "readings"),
        "meter_monthly": _kwh(meter_months),
        "transformer_daily": transformer_days,
        "transformer_monthly": transformer_months,
        "completeness": completeness,
        "gaps": gaps,
        "alerts": alerts,
    }
    return MartFrames(
        **{t.name: _pandas(spark_frames[t.name], t.column_names) for t in MART_TABLES}
    )


WHOLE_DAYS = "the mart is refreshed for whole days of every meter: run it without --meters"


def run(context: JobContext) -> MartCounts | str:
    """Refresh the mart for the range; with ``--meters`` under ``all``, skip it (a refresh
    replaces whole days, so one of some meters would empty the others' rows)."""
    say = context.say
    if context.meters:
        if context.all_jobs:
            say(f"mart: skipped ({WHOLE_DAYS})")
            return "skipped"
        raise BatchError(WHOLE_DAYS)
    say(f"mart: collecting {context.first_day}..{context.last_day} from Cassandra")
    frames = mart_frames(context)
    if frames.meter_daily.empty:
        raise BatchError(
            f"no daily energy for {context.first_day}..{context.last_day}: "
            "run the energy job over the range first"
        )
    say("mart: refreshing PostgreSQL")
    counts = refresh_mart(
        context.connections, frames, context.first_day, context.last_day,
        time_zone=context.settings.time_zone,
    )  # fmt: skip
    for name, rows in counts.inserted.items():
        context.count(f"mart.{name}", rows)
    say(counts.line())
    return counts
