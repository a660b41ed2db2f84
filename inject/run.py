"""One injector run: fleet → fault injector → JetStream, paced by a simulated clock."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import NoServersError

from inject.clock import FastClock, ScaledClock, SimClock
from inject.faults import MALFORMED_KINDS, Emission, FaultConfig, FaultInjector, GroundTruthWriter
from inject.fleet import Fleet, FleetConfig
from inject.metrics import InjectorMetrics, MetricsTarget
from smart_meter.credentials import Credentials
from smart_meter.publisher import PublishStats, ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import nats_connect_options
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import PLATFORM_READINGS, ReadingsDestination

INITIAL_CONNECT_ATTEMPTS = 3
RECONNECT_ATTEMPTS_AFTER_START = 1_000_000  # once connected, ride out server restarts


@dataclass(frozen=True)
class InjectOptions:
    """Everything one injector run needs; built from the command line or by tests."""

    fleet: FleetConfig
    faults: FaultConfig
    intervals: int
    start: datetime
    speedup: float | None  # None: as fast as possible
    batch_size: int = 100
    max_in_flight: int = 256
    ground_truth: Path | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    nats_credentials: Credentials | None = None
    partitions: int = 16
    destination: ReadingsDestination = PLATFORM_READINGS
    metrics: MetricsTarget | None = None  # readings/s per replica to InfluxDB

    def clock(self) -> SimClock:
        if self.speedup is None:
            return FastClock()
        return ScaledClock(self.start, self.speedup)


class Publisher(Protocol):
    """What a run publishes through (:class:`ReadingPublisher`, or a fake in tests)."""

    stats: PublishStats

    async def publish(self, readings: Iterable[Reading]) -> None: ...

    async def publish_raw(
        self, subject: str, payload: bytes, msg_id: str | None = None
    ) -> None: ...

    async def flush(self) -> None: ...


@dataclass
class InjectSummary:
    """What a run sent, what JetStream kept, and the faults injected by kind."""

    intervals: int = 0
    readings_sent: int = 0
    duplicate_copies_sent: int = 0
    malformed_sent: int = 0
    readings_published: int = 0
    raw_published: int = 0
    duplicates_refused: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        faults = ", ".join(f"{kind} {count}" for kind, count in sorted(self.faults.items()))
        return [
            f"intervals simulated:   {self.intervals}",
            f"readings published:    {self.readings_published} (of {self.readings_sent} sent)",
            f"duplicate copies sent: {self.duplicate_copies_sent}",
            f"malformed sent:        {self.malformed_sent}",
            f"duplicates refused:    {self.duplicates_refused} (by JetStream dedup)",
            f"faults by kind:        {faults or 'none'}",
        ]


async def run_injection(
    options: InjectOptions,
    publisher: Publisher,
    clock: SimClock,
    ground_truth: GroundTruthWriter | None = None,
    metrics: InjectorMetrics | None = None,
) -> InjectSummary:
    """Simulate ``options.intervals`` intervals, inject faults, publish what is sent;
    ``metrics`` counts the readings JetStream acknowledged, second by second."""
    fleet = Fleet(options.fleet, options.start)
    on_fault = ground_truth.write if ground_truth else None
    seed, replica = options.fleet.seed, options.fleet.replica
    injector = FaultInjector(options.faults, options.fleet.interval_s, seed, replica, on_fault)
    summary = InjectSummary()
    counted = publisher.stats.readings
    for when, readings in fleet.run(options.intervals):
        await clock.wait_until(when)
        await _send(injector.inject(when, readings), publisher, options, summary)
        summary.intervals += 1
        if ground_truth:
            ground_truth.flush()
        if metrics:
            # Take the count before awaiting: acks keep arriving while the metrics
            # write, and those belong to the next call.
            acked = publisher.stats.readings
            await metrics.published(acked - counted)
            counted = acked
    await _send(injector.drain(), publisher, options, summary)
    await publisher.flush()
    if metrics:
        await metrics.published(publisher.stats.readings - counted)
        await metrics.flush()
    summary.faults = {kind.value: count for kind, count in injector.counts.items()}
    summary.readings_published = publisher.stats.readings
    summary.raw_published = publisher.stats.raw
    summary.duplicates_refused = publisher.stats.duplicates + publisher.stats.raw_duplicates
    return summary


async def _send(
    emission: Emission, publisher: Publisher, options: InjectOptions, summary: InjectSummary
) -> None:
    """Readings first (batched per partition), then raw messages, in emission order."""
    await publisher.publish(emission.readings)
    summary.readings_sent += len(emission.readings)
    for message in emission.raw:
        subject = options.destination.subject_for_meter(message.meter_id, options.partitions)
        await publisher.publish_raw(subject, message.payload, message.msg_id)
        if message.kind in MALFORMED_KINDS:
            summary.malformed_sent += 1
        else:
            summary.duplicate_copies_sent += 1


async def connect(nats_url: str, credentials: Credentials | None = None) -> NatsClient:
    """Connect, or raise ``ConnectionError`` after a few attempts; then reconnect for long."""

    async def quiet(error: Exception) -> None:
        return None

    try:
        nc = await nats.connect(
            **nats_connect_options(nats_url, credentials),
            connect_timeout=2,
            reconnect_time_wait=1,
            max_reconnect_attempts=INITIAL_CONNECT_ATTEMPTS,
            error_cb=quiet,
        )
    except (OSError, NoServersError, TimeoutError) as error:
        raise ConnectionError(f"cannot reach NATS at {nats_url}: {error or 'no servers'}") from None
    nc.options["max_reconnect_attempts"] = RECONNECT_ATTEMPTS_AFTER_START
    return nc


async def inject_to_nats(options: InjectOptions, clock: SimClock | None = None) -> InjectSummary:
    """A whole run against the NATS server of ``options.nats_url``."""
    nc = await connect(options.nats_url, options.nats_credentials)
    try:
        destination = options.destination
        await ensure_readings_streams(nc.jetstream(), destination=destination)
        publisher = ReadingPublisher(
            nc,
            options.partitions,
            options.batch_size,
            options.max_in_flight,
            destination=destination,
        )
        writer: AbstractContextManager[GroundTruthWriter | None] = (
            GroundTruthWriter(options.ground_truth) if options.ground_truth else nullcontext()
        )
        target, replica = options.metrics, options.fleet.replica
        metrics = InjectorMetrics(target, replica) if target else None
        with writer as ground_truth:
            return await run_injection(
                options, publisher, clock or options.clock(), ground_truth, metrics
            )
    finally:
        await nc.drain()
