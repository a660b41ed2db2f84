"""The completeness job: expected against received intervals per meter and local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from pyspark.sql import functions as F  # noqa: N812

from batch_app.completeness import completeness
from batch_app.errors import EmptyRangeError
from batch_app.jobs.context import JobContext
from smart_meter.influx_lines import write_lines
from smart_meter.spark.cassandra import write_table

LOOKBACK_DAYS = 7  # a meter silent all through the range is still expected from here


@dataclass(frozen=True)
class CompletenessSummary:
    meter_days: int
    expected: int
    received: int
    estimated: int

    @property
    def ratio(self) -> float:
        return min(self.received, self.expected) / self.expected if self.expected else 0.0


def run(context: JobContext) -> CompletenessSummary:
    say = context.say
    say(f"completeness: reading {context.first_day}..{context.last_day}")
    readings = context.readings(before_days=LOOKBACK_DAYS, after_days=0).persist()
    newest = readings.agg(F.max("ts_ms").alias("newest")).first()
    if newest is None or newest["newest"] is None:
        raise EmptyRangeError(f"no reading up to {context.last_day}")
    rows = completeness(
        readings, context.settings.time_zone, context.first_day, context.last_day,
        newest["newest"],
    ).persist()  # fmt: skip
    per_day = (
        rows.groupBy("day")
        .agg(
            F.count("*").alias("meters"),
            F.sum("expected").alias("expected"),
            F.sum("received").alias("received"),
            F.sum("estimated").alias("estimated"),
        )
        .collect()
    )
    if not per_day:
        raise EmptyRangeError(f"no meter has a reading up to {context.last_day}")
    write_table(rows, context.keyspace, "completeness_by_meter_day")
    meter_days = sum(r["meters"] for r in per_day)
    context.count("completeness_by_meter_day", meter_days)
    lines = [
        f"completeness expected={r['expected']}i,received={r['received']}i,"
        f"estimated={r['estimated']}i,ratio={min(r['received'], r['expected']) / r['expected']!r} "
        f"{_day_ms(r['day'])}"
        for r in per_day
        if r["expected"]
    ]
    context.count("influxdb points", write_lines(context.connections, lines))
    rows.unpersist()
    readings.unpersist()
    summary = CompletenessSummary(
        meter_days,
        sum(r["expected"] for r in per_day),
        sum(r["received"] for r in per_day),
        sum(r["estimated"] for r in per_day),
    )
    say(f"completeness: {meter_days} meter-days, {summary.ratio:.2%} of intervals received")
    return summary


def _day_ms(day: date) -> int:
    """A day's point time: its UTC midnight."""
    return int(datetime.combine(day, time(), UTC).timestamp() * 1000)
