"""The energy job: daily and monthly energy and cost per meter, half-hour load profiles
per meter, transformer and line, to Cassandra and (loads) InfluxDB."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from decimal import Decimal

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812

from batch_app.energy import MWH_PER_KWH, EnergyFrames, energy_frames, meter_months
from batch_app.errors import EmptyRangeError
from batch_app.jobs.context import JobContext
from smart_meter.influx_lines import tag, write_lines
from smart_meter.spark.cassandra import read_range, write_table

METER_DAY_COLUMNS = (
    "meter_id", "month", "day", "transformer_id", "line_id", "energy_mwh", "cost", "currency",
    "half_hours_from", "half_hours_mwh", "intervals", "estimated_intervals",
)  # fmt: skip
MONTH_COLUMNS = ("meter_id", "month", "energy_mwh", "cost", "currency", "days", "whole_month")
GROUP_DAY_COLUMNS = (
    "month", "day", "meters", "energy_mwh", "cost", "currency", "half_hours_from",
    "half_hours_mwh", "peak_kw", "peak_at",
)  # fmt: skip


@dataclass(frozen=True)
class EnergySummary:
    meter_days: int
    energy_kwh: Decimal
    cost: Decimal
    currency: str


def compute(context: JobContext) -> EnergyFrames:
    settings = context.settings
    window = settings.max_interval_days
    readings = context.readings(before_days=window, after_days=window)
    return energy_frames(readings, context.spark, settings, context.first_day, context.last_day)


def _load_lines(half_hours: DataFrame, measurement: str, key: str) -> list[str]:
    rows = half_hours.select(key, "period_ms", "kw", "load_mwh").collect()
    return [
        f"{measurement},{key}={tag(r[key])} kw={r['kw']!r},energy_mwh={r['load_mwh']}i "
        f"{r['period_ms']}"
        for r in rows
    ]


def run(context: JobContext) -> EnergySummary:
    """Compute and write; an empty range is an error, not a silent success."""
    say = context.say
    say(f"energy: reading {context.first_day}..{context.last_day}")
    frames = compute(context)
    days = frames.meter_day.persist()
    totals = days.agg(
        F.count("*").alias("n"), F.sum("energy_mwh").alias("mwh"), F.sum("cost").alias("cost")
    ).first()
    if totals is None or not totals["n"]:
        raise EmptyRangeError(
            f"no counted reading for local days {context.first_day}..{context.last_day}"
            + (f" of meters {', '.join(context.meters)}" if context.meters else "")
        )
    say(f"energy: {totals['n']} meter-days computed; writing")
    ks = context.keyspace
    write_table(days.select(*METER_DAY_COLUMNS), ks, "energy_by_meter_day")
    context.count("energy_by_meter_day", totals["n"])
    first_of_month = context.first_day.replace(day=1)
    month_end = context.last_day.replace(
        day=monthrange(context.last_day.year, context.last_day.month)[1]
    )
    stored_days = read_range(
        context.spark, ks, "energy_by_meter_day", "meter_id", first_of_month, month_end,
        context.meters,
    )  # fmt: skip
    months = meter_months(stored_days).select(*MONTH_COLUMNS).persist()
    write_table(months, ks, "energy_by_meter_month")
    context.count("energy_by_meter_month", months.count())
    months.unpersist()
    for key, name, frame in (
        ("transformer_id", "load_by_transformer_day", frames.transformer_day),
        ("line_id", "load_by_line_day", frames.line_day),
    ):
        rows = frame.select(key, *GROUP_DAY_COLUMNS)
        write_table(rows, ks, name)
        context.count(name, rows.count())
    say("energy: writing half-hour loads to InfluxDB")
    lines = _load_lines(frames.transformer_half_hours, "transformer_load", "transformer_id")
    lines += _load_lines(frames.line_half_hours, "line_load", "line_id")
    context.count("influxdb points", write_lines(context.connections, lines))
    days.unpersist()
    return EnergySummary(
        totals["n"],
        Decimal(totals["mwh"]) / MWH_PER_KWH,
        Decimal(totals["cost"]),
        context.settings.currency,
    )
