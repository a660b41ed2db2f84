"""``make demo``: the local stack, a simulated fleet through NATS into Cassandra, a summary.

python -m streaming_app.demo [--meters N] [--intervals K] [--batch-size B]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nats
from rich.console import Console
from rich.table import Table

from inject.fleet import Fleet, FleetConfig
from inject.publisher import ReadingPublisher
from smart_meter.settings import ConnectionSettings
from smart_meter.stack.manager import LocalStack
from smart_meter.storage.readings import ReadingStore
from smart_meter.storage.session import open_session
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_STREAM
from streaming_app.store_consumer import StoreConsumer


@dataclass(frozen=True)
class DemoResult:
    published: int
    duplicates_refused: int
    consumed: int
    dead_letters: int
    stored: int
    seconds: float


async def run_pipeline(
    settings: ConnectionSettings, fleet: Fleet, intervals: int, batch_size: int
) -> DemoResult:
    began = time.monotonic()
    nc = await nats.connect(settings.nats_url)
    try:
        js = nc.jetstream()
        await ensure_readings_streams(js)
        # This run's readings start after whatever the stream already holds.
        start_seq = (await js.stream_info(READINGS_STREAM)).state.last_seq + 1
        publisher = ReadingPublisher(nc, settings.partitions, batch_size=batch_size)
        first = last = fleet.start
        for when, readings in fleet.run(intervals):
            last = when
            await publisher.publish(readings)
        await publisher.flush()
        session = open_session(settings)
        store = ReadingStore(session)
        durable = f"demo-store-{uuid.uuid4().hex[:8]}"
        consumer = StoreConsumer(nc, store, durable=durable)
        consumed = await consumer.run_until_idle(start_seq=start_seq)
        await js.delete_consumer(READINGS_STREAM, durable)
        stored = store.count_between(fleet.meter_ids, first, last)
        session.cluster.shutdown()
    finally:
        await nc.close()
    return DemoResult(
        publisher.stats.readings,
        publisher.stats.duplicates,
        consumed.readings,
        consumed.dead_letters,
        stored,
        time.monotonic() - began,
    )


def summary_table(result: DemoResult, meters: int, intervals: int) -> Table:
    table = Table(title=f"smart-meter demo: {meters} meters x {intervals} intervals")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("readings published to JetStream", f"{result.published:,}")
    table.add_row("publishes refused as duplicates", f"{result.duplicates_refused:,}")
    table.add_row("readings consumed this run", f"{result.consumed:,}")
    table.add_row("dead letters", f"{result.dead_letters:,}")
    table.add_row("readings read back from Cassandra", f"{result.stored:,}")
    table.add_row("seconds (publish + consume + count)", f"{result.seconds:.1f}")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument(
        "--intervals", type=int, default=48, help="half-hour intervals (48 = one day)"
    )
    parser.add_argument("--batch-size", type=int, default=50)
    args = parser.parse_args(argv)
    console = Console(width=120)
    stack = LocalStack()
    for service in stack.up():
        console.print(service.line())
    settings = ConnectionSettings.for_stack(stack.settings)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    fleet = Fleet(FleetConfig(meters=args.meters, interval_s=1800), start)
    result = asyncio.run(run_pipeline(settings, fleet, args.intervals, args.batch_size))
    console.print(summary_table(result, args.meters, args.intervals))
    expected = args.meters * args.intervals
    if result.stored != expected:
        console.print(f"[red]stored {result.stored:,} readings, expected {expected:,}[/red]")
        return 1
    console.print(f"[green]all {expected:,} readings stored exactly once[/green]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
