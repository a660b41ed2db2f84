"""Write throughput and client CPU of the streaming app's Cassandra sinks, one per client
(``cassandra-driver``: :class:`CassandraSink`; ``acsylla``: :class:`AcsyllaSink`): single
statements vs UNLOGGED batches grouped by partition or by replica set.

    python -m bench.cassandra_sink_bench [--readings 24000] [--batch 1024]
        [--clients driver,acsylla] [--batch-rows 1,10,16,32] [--concurrency 64]
        [--writers 1,4] [--repeats 3] [--keyspace smart_meter_bench]

Two shapes of :class:`ProcessedBatch` (half-hourly readings, ``--batch`` readings each,
32 meters per transformer, every reading accepted):

- ``live``: one interval of many meters per batch, as the app sees a fleet in real time
  (one row per meter-day partition; a transformer-day partition gets 32 rows);
- ``catch-up``: whole days of few meters per batch, as after an outage or a replay
  (a meter-day partition gets 48 rows).

For every client × grouping (``partition``, ``replica``) × ``--batch-rows`` (1: no
batches, every row alone) × ``--concurrency``
(requests in flight) × ``--writers`` (batches written at once, as the app commits up to
4): readings/s and rows/s = readings and rows (two per reading: both reading tables) /
wall time of ``await sink.write`` of all batches, and the client's CPU per row = this
process's CPU time over the same span (every thread: the driver's event loop and worker
threads, the C++ driver's I/O thread) / rows. Rows go to ``--keyspace`` (the platform's
schema), never the platform's own; every configuration writes fresh meter ids.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from streaming_app.sinks.acsylla_sink import AcsyllaSink
from streaming_app.sinks.base import Sink, TransientSinkError
from streaming_app.sinks.cassandra_rows import Grouping
from streaming_app.sinks.cassandra_sink import CassandraSink
from streaming_app.sinks.cassandra_writes import batch_writes

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
    client: str
    shape: str
    grouping: Grouping
    batch_rows: int
    concurrency: int
    writers: int

    def label(self) -> str:
        return (
            f"{self.client:<7} {self.shape:<9} {self.grouping.value:<9} "
            f"batch_rows={self.batch_rows:<3} concurrency={self.concurrency:<4} "
            f"writers={self.writers}"
        )


@dataclass(frozen=True)
class Run:
    """One run of a configuration: readings and rows written, wall and CPU seconds."""

    readings: int
    rows: int
    seconds: float
    cpu_s: float


def configs(options: argparse.Namespace) -> list[Config]:
    """``batch_rows=1`` is the same with either grouping: measured once."""
    return [
        Config(client, shape, grouping, rows, concurrency, writers)
        for client in options.clients.split(",")
        for shape in SHAPES
        for grouping in Grouping
        for rows in numbers(options.batch_rows)
        for concurrency in numbers(options.concurrency)
        for writers in numbers(options.writers)
        if rows > 1 or grouping is Grouping.PARTITION
    ]


async def write_all(sink: Sink, batches: Sequence[ProcessedBatch], writers: int) -> None:
    """``writers`` tasks take the batches in turn, like the app's commits in flight."""
    queue = iter(batches)

    async def writer() -> None:
        for batch in queue:
            await sink.write(batch)

    await asyncio.gather(*(writer() for _ in range(writers)))


@dataclass(frozen=True)
class Clients:
    """One connection per client, shared by every configuration."""

    session: Session
    acsylla: AcsyllaSink | None

    def sink(self, config: Config) -> Sink:
        if config.client == "acsylla":
            assert self.acsylla is not None
            return self.acsylla.configured(
                max_batch_rows=config.batch_rows,
                concurrency=config.concurrency,
                grouping=config.grouping,
            )
        return CassandraSink(
            self.session,
            max_batch_rows=config.batch_rows,
            concurrency=config.concurrency,
            grouping=config.grouping,
        )


async def measure(clients: Clients, config: Config, readings: int, batch: int) -> Run:
    """The sink of ``config`` writing fresh batches of its shape."""
    sink = clients.sink(config)
    prefix = f"B{uuid.uuid4().hex[:6]}-"
    now_ms = time.time_ns() // 1_000_000
    groups = SHAPES[config.shape](readings, batch, prefix)
    batches = [ProcessedBatch(0, now_ms, tuple(group)) for group in groups]
    count = sum(len(batch.readings) for batch in batches)
    rows = sum(len(batch_writes(batch)) for batch in batches)
    began, cpu_began = time.perf_counter(), time.process_time()
    await write_all(sink, batches, config.writers)
    return Run(count, rows, time.perf_counter() - began, time.process_time() - cpu_began)


async def measure_through_outages(
    clients: Clients, config: Config, options: argparse.Namespace
) -> Run:
    """:func:`measure`, run again from scratch when Cassandra was away meanwhile (other
    tests on a shared stack may stop it): a run that saw an outage measures the outage."""
    while True:
        try:
            return await measure(clients, config, options.readings, options.batch)
        except TransientSinkError as error:
            print(f"  ({config.label()}: {error.reason[:60]}...; measuring again)", flush=True)
            await asyncio.sleep(OUTAGE_PAUSE_S)


def summary(runs: Sequence[Run]) -> str:
    """Median readings/s, rows/s (min-max) and client CPU µs per row."""
    rows_per_s = sorted(run.rows / run.seconds for run in runs)
    readings_per_s = statistics.median(run.readings / run.seconds for run in runs)
    cpu_us = statistics.median(run.cpu_s / run.rows * 1e6 for run in runs)
    return (
        f"{readings_per_s:>9,.0f} readings/s  {statistics.median(rows_per_s):>9,.0f} rows/s "
        f"({rows_per_s[0]:,.0f}-{rows_per_s[-1]:,.0f})  {cpu_us:6.1f} µs CPU/row"
    )


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


async def main(options: argparse.Namespace) -> None:
    connections = ConnectionSettings(cassandra_keyspace=options.keyspace)
    session = open_session(connections)
    wanted = options.clients.split(",")
    acsylla = await AcsyllaSink.open(connections) if "acsylla" in wanted else None
    clients = Clients(session, acsylla)
    one, five, fifteen = os.getloadavg()
    print(f"Cassandra sinks ({', '.join(wanted)}) into {options.keyspace}: ", end="")
    print(f"{options.readings:,} readings a run, {os.cpu_count()} CPUs, ", end="")
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f}")
    print(f"median of {options.repeats} runs interleaved across configurations")
    try:
        for client in wanted:
            warm_up = Config(client, "live", Grouping.PARTITION, 16, 32, 1)
            await measure(clients, warm_up, 2 * options.batch, options.batch)
        runs: dict[Config, list[Run]] = {config: [] for config in configs(options)}
        for _ in range(options.repeats):
            for config, done in runs.items():
                done.append(await measure_through_outages(clients, config, options))
        for config, done in runs.items():
            print(f"{config.label()}  {summary(done)}", flush=True)
        one, five, fifteen = os.getloadavg()
        print(f"load average at the end: {one:.2f} {five:.2f} {fifteen:.2f}")
    finally:
        if acsylla is not None:
            await acsylla.close()
        session.cluster.shutdown()


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=24_000, help="per configuration")
    parser.add_argument("--batch", type=int, default=1024, help="readings per ProcessedBatch")
    parser.add_argument("--clients", default="driver,acsylla", help="driver, acsylla or both")
    parser.add_argument("--batch-rows", default="1,10,16,32", help="max rows per batch")
    parser.add_argument("--concurrency", default="64", help="requests in flight")
    parser.add_argument("--writers", default="1,4", help="batches written at once")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration")
    parser.add_argument("--keyspace", default="smart_meter_bench")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
