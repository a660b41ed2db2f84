"""Write throughput of :class:`CassandraSink`: single statements vs UNLOGGED batches
grouped by partition or by replica set.

    python -m bench.cassandra_sink_bench [--readings 24000] [--batch 1024]
        [--batch-rows 1,10,16,32] [--concurrency 64] [--writers 1,4] [--repeats 3]
        [--keyspace smart_meter_bench]

Two shapes of :class:`ProcessedBatch` (half-hourly readings, ``--batch`` readings each,
32 meters per transformer, every reading accepted):

- ``live``: one interval of many meters per batch, as the app sees a fleet in real time
  (one row per meter-day partition; a transformer-day partition gets 32 rows);
- ``catch-up``: whole days of few meters per batch, as after an outage or a replay
  (a meter-day partition gets 48 rows).

For every grouping (``partition``, ``replica``) × ``--batch-rows`` (1: no batches, every
row alone through ``execute_concurrent``) × ``--concurrency`` (requests in flight) ×
``--writers`` (batches written at once, as the app commits up to 4), readings/s =
readings / wall time of ``await sink.write`` of all batches (two rows per reading: both
reading tables). Rows go to ``--keyspace`` (the platform's schema), never the platform's own;
every configuration writes fresh meter ids.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cassandra.cluster import Session

from smart_meter.reading import GridPosition, Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from streaming_app.processed import CheckedReading, ProcessedBatch
from streaming_app.rules.engine import Status, Verdict
from streaming_app.rules.events import Lateness
from streaming_app.sinks.base import TransientSinkError
from streaming_app.sinks.cassandra_rows import Grouping
from streaming_app.sinks.cassandra_sink import CassandraSink

START = datetime(2030, 6, 1, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)
METERS_PER_TRANSFORMER = 32
READINGS_PER_DAY = 48
OUTAGE_PAUSE_S = 10.0


def reading(meter: int, interval: int, prefix: str) -> CheckedReading:
    ts = START + interval * INTERVAL
    transformer = f"{prefix}T{meter // METERS_PER_TRANSFORMER}"
    value = Reading(
        meter_id=f"{prefix}M{meter}",
        ts=ts,
        seq=interval,
        import_wh=1000.0 + 250.0 * interval,
        voltage_v=(230.0 + meter % 7,),
        grid=GridPosition(line_id="L1", transformer_id=transformer, usage_point_id=f"UP{meter}"),
    )
    verdict = Verdict(value.meter_id, value.ts_ms, Status.ACCEPTED, Lateness.ON_TIME, ())
    received_ms = value.ts_ms + 1_000
    return CheckedReading(value, verdict, received_ms, received_ms - 50)


def live(total: int, batch: int, prefix: str) -> Iterator[list[CheckedReading]]:
    """One interval of ``batch`` meters per batch."""
    for first in range(0, total, batch):
        meters = range(first, min(first + batch, total))
        yield [reading(meter, 0, prefix) for meter in meters]


def catch_up(total: int, batch: int, prefix: str) -> Iterator[list[CheckedReading]]:
    """Whole days of ``batch // 48`` meters per batch."""
    meters_per_batch = max(1, batch // READINGS_PER_DAY)
    for first in range(0, total // READINGS_PER_DAY, meters_per_batch):
        yield [
            reading(meter, interval, prefix)
            for meter in range(first, first + meters_per_batch)
            for interval in range(READINGS_PER_DAY)
        ]


SHAPES = {"live": live, "catch-up": catch_up}


@dataclass(frozen=True)
class Config:
    shape: str
    grouping: Grouping
    batch_rows: int
    concurrency: int
    writers: int

    def label(self) -> str:
        return (
            f"{self.shape:<9} {self.grouping.value:<9} batch_rows={self.batch_rows:<3}"
            f" concurrency={self.concurrency:<4} writers={self.writers}"
        )


def configs(options: argparse.Namespace) -> list[Config]:
    """``batch_rows=1`` is the same with either grouping: measured once."""
    return [
        Config(shape, grouping, rows, concurrency, writers)
        for shape in SHAPES
        for grouping in Grouping
        for rows in numbers(options.batch_rows)
        for concurrency in numbers(options.concurrency)
        for writers in numbers(options.writers)
        if rows > 1 or grouping is Grouping.PARTITION
    ]


async def write_all(sink: CassandraSink, batches: Sequence[ProcessedBatch], writers: int) -> None:
    """``writers`` tasks take the batches in turn, like the app's commits in flight."""
    queue = iter(batches)

    async def writer() -> None:
        for batch in queue:
            await sink.write(batch)

    await asyncio.gather(*(writer() for _ in range(writers)))


async def measure(session: Session, config: Config, readings: int, batch: int) -> float:
    """Readings per second of the sink writing fresh batches of this shape."""
    sink = CassandraSink(
        session,
        max_batch_rows=config.batch_rows,
        concurrency=config.concurrency,
        grouping=config.grouping,
    )
    prefix = f"B{uuid.uuid4().hex[:6]}-"
    now_ms = time.time_ns() // 1_000_000
    groups = SHAPES[config.shape](readings, batch, prefix)
    batches = [ProcessedBatch(0, now_ms, tuple(group)) for group in groups]
    count = sum(len(batch.readings) for batch in batches)
    began = time.perf_counter()
    await write_all(sink, batches, config.writers)
    return count / (time.perf_counter() - began)


async def measure_through_outages(
    session: Session, config: Config, options: argparse.Namespace
) -> float:
    """:func:`measure`, run again from scratch when Cassandra was away meanwhile (other
    tests on a shared stack may stop it): a run that saw an outage measures the outage."""
    while True:
        try:
            return await measure(session, config, options.readings, options.batch)
        except TransientSinkError as error:
            print(f"  ({config.label()}: {error.reason[:60]}...; measuring again)", flush=True)
            await asyncio.sleep(OUTAGE_PAUSE_S)


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


async def main(options: argparse.Namespace) -> None:
    connections = ConnectionSettings(cassandra_keyspace=options.keyspace)
    session = open_session(connections)
    print(f"CassandraSink into {options.keyspace}: {options.readings:,} readings a run,")
    print(f"median of {options.repeats} runs interleaved across configurations")
    try:
        warm_up = Config("live", Grouping.REPLICA, 16, 32, 1)
        await measure(session, warm_up, 2 * options.batch, options.batch)
        rates: dict[Config, list[float]] = {config: [] for config in configs(options)}
        for _ in range(options.repeats):
            for config, runs in rates.items():
                runs.append(await measure_through_outages(session, config, options))
        for config, runs in rates.items():
            print(f"{config.label()}  {statistics.median(runs):>9,.0f} readings/s", flush=True)
    finally:
        session.cluster.shutdown()


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=24_000, help="per configuration")
    parser.add_argument("--batch", type=int, default=1024, help="readings per ProcessedBatch")
    parser.add_argument("--batch-rows", default="1,10,16,32", help="max rows per batch")
    parser.add_argument("--concurrency", default="64", help="requests in flight")
    parser.add_argument("--writers", default="1,4", help="batches written at once")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration")
    parser.add_argument("--keyspace", default="smart_meter_bench")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
