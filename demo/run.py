"""One demo run: reset, inject a faulty fleet, run the app until all is acked, read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats

from demo.collect import (
    MetricCounts,
    ReadDeadLetter,
    StoredCounts,
    metric_counts,
    next_seq,
    read_dead_letters,
    read_findings,
    stored_counts,
)
from demo.deployment import DemoDeployment
from demo.launch import AppProcess, app_environment, backlog
from demo.sink_limit import SinkLimit, measure
from inject.faults import (
    DetectionLimits,
    FaultConfig,
    FaultRecord,
    ProfileName,
    read_ground_truth,
)
from inject.fleet import FleetConfig, meter_id, transformer_id
from inject.metrics import MetricsTarget
from inject.run import InjectOptions, InjectSummary, inject_to_nats
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import (
    DEAD_LETTER_STREAM,
    FINDINGS_STREAM,
    ensure_readings_streams,
    ensure_stream,
    findings_stream_config,
)
from streaming_app.rules.events import Event
from streaming_app.validation import ValidationSettings, demo_settings

INTERVAL_S = 60  # the demo preset's meters read every minute


class DemoError(RuntimeError):
    """The demo could not finish; the message says what to look at."""


@dataclass(frozen=True)
class DemoOptions:
    meters: int = 1_000
    intervals: int = 60
    faults: ProfileName = "all"
    seed: int = 42
    replicas: int = 1
    batch_size: int = 100
    timeout_s: float = 900.0
    out_dir: Path = Path(".state/demo")
    name: str = "demo"  # of the stream, durables, buckets, keyspace (reset at each run)
    start: datetime | None = None  # first event time; default: an hour before now


@dataclass(frozen=True)
class DemoRun:
    """Everything a run produced, for the summary."""

    options: DemoOptions
    start: datetime
    last: datetime
    injected: InjectSummary
    records: list[FaultRecord]
    findings: list[Event]
    dead_letters: list[ReadDeadLetter]
    stored: StoredCounts
    metrics: MetricCounts
    inject_s: float
    process_s: float
    sink_limit: SinkLimit | None = None  # raw acsylla INSERTs of the same rows, afterwards

    @property
    def transformer_of(self) -> dict[str, str]:
        """Meter to transformer, as the fleet lays them out."""
        per = FleetConfig(meters=self.options.meters).meters_per_transformer
        return {meter_id(i): transformer_id(i // per) for i in range(self.options.meters)}


Progress = Callable[[int], None]


async def run_demo(
    options: DemoOptions, base: ConnectionSettings, progress: Progress | None = None
) -> DemoRun:
    """The whole run against the servers of ``base``."""
    deployment = DemoDeployment(options.name)
    connections = deployment.connections(base)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    nc = await nats.connect(**base.nats_connect_options())
    try:
        js = nc.jetstream()
        await deployment.reset(js, connections)
        await ensure_readings_streams(js, destination=deployment.destination)
        await ensure_stream(js, findings_stream_config())
        findings_from = await next_seq(js, FINDINGS_STREAM)
        dead_from = await next_seq(js, DEAD_LETTER_STREAM)

        began = time.monotonic()
        inject = _inject_options(options, base, deployment)
        injected = await inject_to_nats(inject)
        injected_at = time.monotonic()

        env = app_environment(connections, deployment.app_values())
        apps = [
            AppProcess(env, options.out_dir / f"app-{i}.log", "--replica-id", f"demo-{i}")
            for i in range(options.replicas)
        ]
        try:
            await wait_until_acked(
                js, deployment, base.partitions, apps, options.timeout_s, progress
            )
        finally:
            codes = [app.terminate() if app.alive() else app.wait(5) for app in apps]
        if any(codes):
            raise DemoError(f"the app exited with {codes}; see {options.out_dir}/app-*.log")
        processed_at = time.monotonic()

        findings = await read_findings(js, findings_from, deployment.destination.stream)
        dead_letters = await read_dead_letters(js, dead_from, deployment.destination.prefix)
    finally:
        await nc.close()
    assert inject.ground_truth is not None
    stored, metrics = stored_counts(connections), metric_counts(connections)
    return DemoRun(
        options=options,
        start=inject.start,
        last=inject.start + timedelta(seconds=INTERVAL_S * (options.intervals - 1)),
        injected=injected,
        records=list(read_ground_truth(inject.ground_truth)),
        findings=findings,
        dead_letters=dead_letters,
        stored=stored,
        metrics=metrics,
        inject_s=injected_at - began,
        process_s=processed_at - injected_at,
        sink_limit=await measure(connections),
    )


def _inject_options(
    options: DemoOptions, base: ConnectionSettings, deployment: DemoDeployment
) -> InjectOptions:
    """The fleet of the last ``intervals`` minutes, published as fast as NATS takes it."""
    now = int(datetime.now(UTC).timestamp())
    first = now - now % INTERVAL_S - INTERVAL_S * options.intervals
    start = options.start or datetime.fromtimestamp(first, UTC)
    return InjectOptions(
        fleet=FleetConfig(meters=options.meters, interval_s=INTERVAL_S, seed=options.seed),
        faults=FaultConfig.profile(options.faults, detection_limits(demo_settings())),
        intervals=options.intervals,
        start=start,
        speedup=None,
        batch_size=options.batch_size,
        ground_truth=options.out_dir / "ground_truth.jsonl",
        nats_url=base.nats_url,
        partitions=base.partitions,
        destination=deployment.destination,
        metrics=MetricsTarget(base.influxdb_url, deployment.database),
    )


def detection_limits(settings: ValidationSettings) -> DetectionLimits:
    """The limits of these rules, for the injector: it labels only faults they can see."""
    register, spike = settings.register_check, settings.spike
    return DetectionLimits(
        reset_below_wh=register.reset_below_wh,
        spike_ratio=spike.ratio,
        spike_statistic=spike.statistic,
        spike_min_history=spike.min_history,
        spike_history_size=spike.history_size,
        spike_recent_intervals=spike.recent_intervals,
        spike_min_power_w=spike.min_power_w,
    )


async def wait_until_acked(
    js: nats.js.JetStreamContext,
    deployment: DemoDeployment,
    partitions: int,
    apps: list[AppProcess],
    timeout_s: float,
    progress: Progress | None,
) -> None:
    """Until every message is acked; a dead app or the timeout is a :class:`DemoError`."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = await backlog(js, deployment.destination, deployment.name, partitions)
        if progress is not None:
            progress(left)
        if left == 0:
            return
        dead = [app for app in apps if not app.alive()]
        if dead:
            raise DemoError(f"the app died: {dead[0].last_lines()} (log: {dead[0].log})")
        if time.monotonic() > deadline:
            raise DemoError(f"{left} messages still unacked after {timeout_s:.0f} s")
        await asyncio.sleep(0.5)  # polling the consumers' state, not waiting for a server
