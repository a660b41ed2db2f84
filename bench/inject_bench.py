"""Readings/s one injector process publishes to JetStream, beside a bare nats-py loop.

    python -m bench.inject_bench [--readings 50000] [--batch-size 100] [--rounds 3]

For batched (``--batch-size`` readings per message) and unbatched (1 per message)
publishing, each round times:

* ``ReadingPublisher``: :class:`smart_meter.publisher.ReadingPublisher` from readings to
  acks (grouping, encoding, dedup ids, bounded in-flight, retries);
* ``bare publish_async``: the same messages, encoded beforehand exactly as the publisher
  encodes them, sent by a bare ``js.publish_async`` loop with the same in-flight bound
  and headers, then ``publish_async_completed()``.

The ratio publisher/bare is the figure we track. Each variant of each round publishes
readings of its own meters (ids prefixed with a random run token), so JetStream's
duplicate window never turns a publish into a cheap duplicate. Best of ``--rounds``;
the order of the two variants alternates between rounds. Every reading lands in the
shared READINGS stream (about 300 B each): default settings add ~0.6 M readings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version

import nats
from nats.aio.client import Client as NatsClient

from inject.fleet import Fleet, FleetConfig
from inject.loadtest.jetstream import OutgoingMessage, plan_messages
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_STREAM


@dataclass(frozen=True)
class Timed:
    """One timed publish of ``readings`` readings in ``messages`` messages."""

    readings: int
    messages: int
    seconds: float

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.seconds


def fleet_readings(count: int, meters: int) -> list[Reading]:
    """``count`` realistic readings: whole intervals of a ``meters``-meter fleet."""
    fleet = Fleet(FleetConfig(meters=meters), datetime(2024, 1, 1, tzinfo=UTC))
    readings: list[Reading] = []
    while len(readings) < count:
        readings.extend(fleet.tick()[1])
    return readings[:count]


def with_prefix(readings: list[Reading], prefix: str) -> list[Reading]:
    """The same readings from meters nobody else publishes (``<prefix>-M…``)."""
    return [r.model_copy(update={"meter_id": f"{prefix}-{r.meter_id}"}) for r in readings]


async def time_publisher(
    nc: NatsClient, readings: list[Reading], batch_size: int, max_in_flight: int
) -> Timed:
    partitions = ConnectionSettings().partitions
    publisher = ReadingPublisher(nc, partitions, batch_size=batch_size, max_in_flight=max_in_flight)
    began = time.perf_counter()
    await publisher.publish(readings)
    await publisher.flush()
    seconds = time.perf_counter() - began
    stats = publisher.stats
    if stats.readings != len(readings) or stats.duplicates:
        raise RuntimeError(f"publisher stored {stats.readings} of {len(readings)} readings")
    return Timed(stats.readings, stats.messages, seconds)


async def time_bare_loop(
    nc: NatsClient, messages: list[OutgoingMessage], max_in_flight: int
) -> Timed:
    js = nc.jetstream(publish_async_max_pending=max_in_flight)
    began = time.perf_counter()
    futures = [
        await js.publish_async(
            m.subject, m.payload, stream=READINGS_STREAM, headers={"Nats-Msg-Id": m.msg_id}
        )
        for m in messages
    ]
    await js.publish_async_completed()
    seconds = time.perf_counter() - began
    stored = sum(1 for future in futures if not future.result().duplicate)
    if stored != len(messages):
        raise RuntimeError(f"bare loop stored {stored} of {len(messages)} messages")
    return Timed(sum(m.readings for m in messages), len(messages), seconds)


def print_machine(nc: NatsClient) -> None:
    server = nc._server_info.get("version", "?")
    where = nc.connected_url.netloc if nc.connected_url else "?"
    loopback = where.startswith(("127.", "localhost", "[::1]"))
    local = " (on this machine: it shares the CPUs)" if loopback else ""
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, nats-py {version('nats-py')}, "
        f"nats-server {server} at {where}{local}"
    )


def print_row(label: str, best: Timed) -> None:
    print(
        f"  {label:<22} {best.readings_per_s:>12,.0f} readings/s "
        f"{best.messages / best.seconds:>10,.0f} msg/s   ({best.readings:,} readings, "
        f"{best.messages:,} messages, {best.seconds:.2f} s)"
    )


@dataclass(frozen=True)
class Round:
    """One round: the publisher, the bare loop, and encoding the bare loop's messages."""

    publisher: Timed
    bare: Timed
    encode: Timed


def time_encoding(readings: list[Reading], batch_size: int) -> tuple[list[OutgoingMessage], Timed]:
    """Messages as the publisher cuts and encodes them, and how long that took."""
    began = time.perf_counter()
    messages = plan_messages(readings, ConnectionSettings().partitions, batch_size)
    return messages, Timed(len(readings), len(messages), time.perf_counter() - began)


async def run_round(
    nc: NatsClient,
    template: list[Reading],
    batch_size: int,
    max_in_flight: int,
    prefix: str,
    bare_first: bool,
) -> Round:
    """Publisher and bare loop once each, each on meters of its own."""
    ours = with_prefix(template, f"{prefix}p")
    theirs, encode = time_encoding(with_prefix(template, f"{prefix}n"), batch_size)
    if not bare_first:
        publisher = await time_publisher(nc, ours, batch_size, max_in_flight)
        return Round(publisher, await time_bare_loop(nc, theirs, max_in_flight), encode)
    bare = await time_bare_loop(nc, theirs, max_in_flight)
    return Round(await time_publisher(nc, ours, batch_size, max_in_flight), bare, encode)


def fastest(timings: list[Timed]) -> Timed:
    return max(timings, key=lambda t: t.readings_per_s)


async def bench_mode(
    nc: NatsClient, template: list[Reading], batch_size: int, rounds: int, max_in_flight: int
) -> float:
    """Best publisher and bare-loop rates for one batch size; returns their ratio."""
    run = secrets.token_hex(3)
    results = [
        await run_round(
            nc, template, batch_size, max_in_flight, f"B{run}b{batch_size}r{n}", n % 2 == 1
        )
        for n in range(rounds)
    ]
    publisher = fastest([r.publisher for r in results])
    bare = fastest([r.bare for r in results])
    ratio = publisher.readings_per_s / bare.readings_per_s
    print(f"batch size {batch_size} (best of {rounds}):")
    print_row("ReadingPublisher", publisher)
    print_row("bare publish_async", bare)
    print(f"  ratio publisher/bare   {ratio:.2f}")
    print_row("(encode only, no I/O)", fastest([r.encode for r in results]))
    return ratio


async def main_async(args: argparse.Namespace) -> None:
    nc = await nats.connect(args.nats_url)
    try:
        await ensure_readings_streams(nc.jetstream())
        print_machine(nc)
        template = fleet_readings(args.readings, args.meters)
        print(f"{len(template):,} readings of {args.meters} meters per variant and round")
        for batch_size in dict.fromkeys((args.batch_size, 1)):
            await bench_mode(nc, template, batch_size, args.rounds, args.max_in_flight)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=50_000, help="per variant and round")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--nats-url", default=ConnectionSettings().nats_url)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
