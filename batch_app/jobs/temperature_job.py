"""The temperature job: daily energy against temperature per meter and per transformer,
from the energy job's tables (run ``energy`` over the range first; ``all`` does)."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import functions as F  # noqa: N812

from batch_app.errors import BatchError
from batch_app.jobs.context import JobContext
from batch_app.temperature import daily_temperature, fit
from smart_meter.spark.cassandra import read_range, write_table


@dataclass(frozen=True)
class TemperatureSummary:
    meters: int
    transformers: int
    median_meter_correlation: float | None


def run(context: JobContext) -> TemperatureSummary:
    say, settings = context.say, context.settings
    say("temperature: reading daily energy and reported temperatures")
    first, last, ks = context.first_day, context.last_day, context.keyspace
    meter_energy = (
        read_range(
            context.spark, ks, "energy_by_meter_day", "meter_id", first, last, context.meters
        )
        .select("meter_id", "transformer_id", "day", "energy_mwh")
        .persist()
    )
    if meter_energy.isEmpty():
        raise BatchError(
            f"no daily energy for {first}..{last}: run the energy job over the range first"
        )
    readings = context.readings(before_days=0, after_days=0)
    zone, base = settings.time_zone, settings.base_temperature_c
    by_meter = fit(
        meter_energy, daily_temperature(readings, zone, "meter_id"),
        "meter_id", "meter", base, first, last,
    )  # fmt: skip
    transformer_energy = (
        meter_energy.where(F.col("transformer_id").isNotNull())
        .groupBy("transformer_id", "day")
        .agg(F.sum("energy_mwh").alias("energy_mwh"))
    )
    by_transformer = fit(
        transformer_energy, daily_temperature(readings, zone, "transformer_id"),
        "transformer_id", "transformer", base, first, last,
    )  # fmt: skip
    fits = by_meter.unionByName(by_transformer).persist()
    write_table(fits, ks, "temperature_fit")
    counts = {
        r["level"]: r["n"] for r in fits.groupBy("level").agg(F.count("*").alias("n")).collect()
    }
    median = by_meter.agg(F.percentile_approx("correlation", 0.5).alias("m")).first()
    context.count("temperature_fit", sum(counts.values()))
    fits.unpersist()
    meter_energy.unpersist()
    summary = TemperatureSummary(
        counts.get("meter", 0), counts.get("transformer", 0), median["m"] if median else None
    )
    say(f"temperature: {summary.meters} meters and {summary.transformers} transformers fitted")
    return summary
