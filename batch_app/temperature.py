"""Consumption against temperature: correlation and a heating-degree-day fit.

For each meter (and each transformer, summing its meters), over the days of the range:
daily energy (kWh) against the day's mean temperature reported by the meters, the
Pearson correlation, and the least-squares line ``kWh = base + slope * HDD`` with
``HDD = max(0, base_temperature - mean temperature)``: ``base`` is the consumption that
does not depend on the weather, ``slope`` the kWh each degree-day of heating adds.
Closed-form from Spark aggregates: ``slope = cov(HDD, kWh) / var(HDD)``.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812

from batch_app.completeness import local_day
from batch_app.energy import MWH_PER_KWH

MIN_DAYS = 3  # fewer days fit nothing meaningful


def daily_temperature(readings: DataFrame, zone: str, key: str) -> DataFrame:
    """``key, day, temperature_c``: the mean temperature the meters reported each local day."""
    dated = readings.where(F.col("temperature_c").isNotNull()).withColumn(
        "day", local_day(F.col("ts_ms"), zone)
    )
    return dated.groupBy(key, "day").agg(F.avg("temperature_c").alias("temperature_c"))


def fit(
    energy: DataFrame, temperature: DataFrame, key: str, level: str,
    base_temperature_c: float, first_day: date, last_day: date,
) -> DataFrame:  # fmt: skip
    """One ``temperature_fit`` row per ``key`` with at least :data:`MIN_DAYS` days."""
    days = energy.join(temperature, [key, "day"]).select(
        key,
        (F.col("energy_mwh") / MWH_PER_KWH).alias("kwh"),
        "temperature_c",
        F.greatest(F.lit(base_temperature_c) - F.col("temperature_c"), F.lit(0.0)).alias("hdd"),
    )
    stats = days.groupBy(key).agg(
        F.count("*").cast("int").alias("days"),
        F.avg("temperature_c").alias("mean_temperature_c"),
        F.corr("temperature_c", "kwh").alias("correlation"),
        F.covar_samp("hdd", "kwh").alias("_cov"),
        F.var_samp("hdd").alias("_var"),
        F.avg("hdd").alias("_hdd"),
        F.avg("kwh").alias("_kwh"),
        F.corr("hdd", "kwh").alias("_r"),
    )
    slope = F.when(F.col("_var") > 0, F.col("_cov") / F.col("_var"))
    return stats.where(F.col("days") >= MIN_DAYS).select(
        F.lit(level).alias("level"),
        F.col(key).alias("id"),
        F.lit(first_day).alias("first_day"),
        F.lit(last_day).alias("last_day"),
        "days",
        "mean_temperature_c",
        "correlation",
        F.coalesce(F.col("_kwh") - slope * F.col("_hdd"), F.col("_kwh")).alias("base_kwh_per_day"),
        slope.alias("kwh_per_degree_day"),
        (F.col("_r") * F.col("_r")).alias("r2"),
        F.lit(base_temperature_c).alias("base_temperature_c"),
    )
