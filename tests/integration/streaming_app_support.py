"""Helpers for the streaming app's integration tests: isolated names, input, processes, counts.

Every scenario gets its own readings stream and subjects, durable names, KV buckets and
Cassandra keyspace (the ``SMART_METER_APP_*`` and ``SMART_METER_CASSANDRA_KEYSPACE``
settings), so tests share the servers but never each other's data. Waits poll counts
against a deadline; nothing sleeps a fixed time hoping for the best.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from demo.launch import app_environment, backlog
from inject.faults import MALFORMED_KINDS, FaultConfig, FaultInjector, ProfileName
from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import encode_batch
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.subjects import ReadingsDestination, dedup_id, partition_of

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 16
START = datetime(2024, 3, 4, tzinfo=UTC)
BUSY_LOOP = """import sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
"""


@dataclass(frozen=True)
class Names:
    """Stream, subjects, durables, buckets and keyspace of one app deployment."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def stream(self) -> str:
        return f"SA_{self.token}"

    @property
    def prefix(self) -> str:
        return f"sa{self.token}.readings"

    def subject(self, partition: int) -> str:
        return f"{self.prefix}.{partition}"

    def app(self, name: str) -> AppNames:
        """Names of one app deployment reading this stream."""
        return AppNames(self, f"{name}{self.token}")


@dataclass(frozen=True)
class AppNames:
    """One deployment of the app over a stream: its durables, buckets and keyspace."""

    input: Names
    tag: str

    @property
    def durable_prefix(self) -> str:
        return f"app-{self.tag}"

    @property
    def keyspace(self) -> str:
        return f"sa_{self.tag}"

    def env(self, connections: ConnectionSettings, **app: object) -> dict[str, str]:
        values: dict[str, object] = {
            "STREAM": self.input.stream,
            "SUBJECT_PREFIX": self.input.prefix,
            "DURABLE_PREFIX": self.durable_prefix,
            "STATE_BUCKET": f"state_{self.tag}",
            "COORD_BUCKET": f"coord_{self.tag}",
            "PRESET": "demo",
            "LEASE_TTL_S": 3.0,
            "RENEW_INTERVAL_S": 0.5,
            "ACK_WAIT_S": 10.0,
            "BACKOFF_MAX_S": 1.0,
            **{key.upper(): value for key, value in app.items()},
        }
        isolated = connections.model_copy(
            update={
                "cassandra_keyspace": self.keyspace,
                "influxdb_database": self.keyspace,
                "partitions": PARTITIONS,
            }
        )
        return app_environment(isolated, values)


@dataclass(frozen=True)
class Outgoing:
    """One message of the input: where, what, with which dedup id."""

    partition: int
    payload: bytes
    msg_id: str


@dataclass
class FleetInput:
    """A fleet with injected faults as messages, and the unique reading keys sent."""

    messages: list[Outgoing] = field(default_factory=list)
    keys: set[tuple[str, int]] = field(default_factory=set)
    malformed: int = 0


def batch_messages(readings: Iterable[Reading], batch_size: int) -> Iterator[Outgoing]:
    """Readings grouped by partition (order kept) into batch messages."""
    by_partition: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_partition[partition_of(reading.meter_id, PARTITIONS)].append(reading)
    for partition, group in by_partition.items():
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            yield Outgoing(partition, encode_batch(chunk), dedup_id(r.key for r in chunk))


def fleet_input(
    meters: int,
    intervals: int,
    *,
    faults: ProfileName = "default",
    seed: int = 7,
    batch_size: int = 10,
) -> FleetInput:
    """One-minute meters through the fault injector, as the messages to publish."""
    fleet = Fleet(FleetConfig(meters=meters, interval_s=60, seed=seed), START)
    injector = FaultInjector(FaultConfig.profile(faults), 60, seed)
    result = FleetInput()
    emissions = [injector.inject(when, readings) for when, readings in fleet.run(intervals)]
    for emission in [*emissions, injector.drain()]:
        result.messages.extend(batch_messages(emission.readings, batch_size))
        result.keys.update(reading.key for reading in emission.readings)
        for raw in emission.raw:
            partition = partition_of(raw.meter_id, PARTITIONS)
            result.messages.append(Outgoing(partition, raw.payload, raw.msg_id))
            result.malformed += raw.kind in MALFORMED_KINDS
    return result


async def create_stream(js: JetStreamContext, names: Names) -> None:
    config = StreamConfig(name=names.stream, subjects=[f"{names.prefix}.*"], duplicate_window=300)
    await js.add_stream(config)


async def publish(
    js: JetStreamContext, names: Names, messages: Iterable[Outgoing]
) -> dict[int, list[tuple[int, Outgoing]]]:
    """Publish in order per partition (partitions concurrently); stream seqs by partition."""
    by_partition: dict[int, list[Outgoing]] = defaultdict(list)
    for message in messages:
        by_partition[message.partition].append(message)

    async def one_partition(partition: int, batch: list[Outgoing]) -> list[tuple[int, Outgoing]]:
        sent = []
        for message in batch:
            ack = await js.publish(
                names.subject(partition),
                message.payload,
                stream=names.stream,
                headers={"Nats-Msg-Id": message.msg_id},
            )
            sent.append((ack.seq, message))
        return sent

    results = await asyncio.gather(*(one_partition(p, b) for p, b in by_partition.items()))
    return dict(zip(by_partition, results, strict=True))


async def remaining(js: JetStreamContext, app: AppNames) -> int:
    """Messages of the stream the deployment has not acked yet (all, for a missing durable)."""
    destination = ReadingsDestination(app.input.stream, app.input.prefix)
    return await backlog(js, destination, app.durable_prefix, PARTITIONS)


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout_s: float, what: str, poll_s: float = 0.2
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(poll_s)


async def delete_deployment(js: JetStreamContext, app: AppNames) -> None:
    """Remove the deployment's buckets (its durables go with the stream)."""
    for bucket in (f"state_{app.tag}", f"coord_{app.tag}"):
        try:
            await js.delete_key_value(bucket)
        except NotFoundError:
            continue


async def wait_for_drain(
    left: Callable[[], Awaitable[int]], stall_s: float, what: str, poll_s: float = 0.5
) -> None:
    """Poll ``left`` until it is 0. Slow is fine; fail only when it has not gone down for
    ``stall_s`` (the app stopped instead of slowing down)."""
    fewest, since = await left(), time.monotonic()
    while fewest > 0:
        await asyncio.sleep(poll_s)
        now_left = await left()
        if now_left < fewest:
            fewest, since = now_left, time.monotonic()
        elif time.monotonic() - since > stall_s:
            raise AssertionError(f"no progress for {stall_s} s, {fewest} left, waiting for {what}")


@contextmanager
def busy_loops(count: int, limit_s: float) -> Iterator[list[subprocess.Popen[bytes]]]:
    """CPU pressure: ``count`` processes spinning at normal priority, each ending by itself
    after ``limit_s`` at the latest, all killed when the block ends."""
    command = [sys.executable, "-c", BUSY_LOOP, str(limit_s)]
    spinning = [subprocess.Popen(command) for _ in range(count)]
    try:
        yield spinning
    finally:
        for process in spinning:
            process.kill()
        for process in spinning:
            process.wait()
