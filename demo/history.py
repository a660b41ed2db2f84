"""The demo's history for training: weeks of half-hourly meters under grid stress (cold
spells, weak transformers: ``inject --grid-stress``) with voltage faults, through
JetStream and the streaming app (prod preset) into a deployment of its own.

Its keyspace and database are ``smart_meter_<name>_history``, so the minute-by-minute
demo fleet and the history never mix. The history covers the ``days`` whole UTC days
before today (the register at the closing midnight included), 5 meters a transformer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import nats

from demo.collect import StoredCounts, stored_counts
from demo.deployment import DemoDeployment
from demo.launch import AppProcess, app_environment
from demo.run import DemoError, Progress, wait_until_acked
from inject.faults import FaultConfig
from inject.faults.kinds import FaultKind
from inject.fleet import FleetConfig
from inject.grid import GridStressConfig
from inject.run import InjectOptions, InjectSummary, inject_to_nats
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams

INTERVAL_S = 1800
METERS_PER_TRANSFORMER = 5
HISTORY_FAULTS = FaultConfig(
    rates={
        FaultKind.VOLTAGE_SAG: 0.0005,
        FaultKind.SUSTAINED_UNDERVOLTAGE: 0.0004,
        FaultKind.SUSTAINED_OVERVOLTAGE: 0.0001,
        FaultKind.MISSING: 0.0005,
    }
)
"""Voltage faults on top of the fleet, and a few silent intervals (prod rule limits)."""


@dataclass(frozen=True)
class HistoryOptions:
    meters: int = 100
    days: int = 35
    seed: int = 7
    name: str = "demo"  # the deployment is ``<name>_history``
    timeout_s: float = 1800.0
    out_dir: Path = Path(".state/demo")
    today: date | None = None  # default: today (UTC); the history ends at its midnight


@dataclass(frozen=True)
class History:
    """What went into the history's deployment."""

    connections: ConnectionSettings
    first_day: date
    last_day: date
    injected: InjectSummary
    stored: StoredCounts
    inject_s: float
    process_s: float


def history_deployment(name: str) -> DemoDeployment:
    return DemoDeployment(f"{name}_history")


async def build_history(
    options: HistoryOptions, base: ConnectionSettings, progress: Progress | None = None
) -> History:
    """Reset the history's deployment, publish the fleet, run the app until all is acked."""
    deployment = history_deployment(options.name)
    connections = deployment.connections(base)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    today = options.today or datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=options.days), clock_time(), UTC)
    inject = InjectOptions(
        fleet=FleetConfig(
            meters=options.meters,
            interval_s=INTERVAL_S,
            meters_per_transformer=METERS_PER_TRANSFORMER,
            seed=options.seed,
            grid_stress=GridStressConfig(),
        ),
        faults=HISTORY_FAULTS,
        intervals=options.days * 48 + 1,
        start=start,
        speedup=None,
        ground_truth=options.out_dir / "history_ground_truth.jsonl",
        nats_url=base.nats_url,
        partitions=base.partitions,
        destination=deployment.destination,
    )
    nc = await nats.connect(base.nats_url)
    try:
        js = nc.jetstream()
        await deployment.reset(js, connections)
        await ensure_readings_streams(js, destination=deployment.destination)
        began = time.monotonic()
        injected = await inject_to_nats(inject)
        injected_at = time.monotonic()
        env = app_environment(connections, deployment.app_values() | {"preset": "prod"})
        app = AppProcess(env, options.out_dir / "app-history.log", "--replica-id", "history-0")
        try:
            await wait_until_acked(
                js, deployment, base.partitions, [app], options.timeout_s, progress
            )
        finally:
            code = app.terminate() if app.alive() else app.wait(5)
        if code:
            raise DemoError(f"the history's app exited with {code}; see {app.log}")
        processed_at = time.monotonic()
    finally:
        await nc.close()
    return History(
        connections=connections,
        first_day=start.date(),
        last_day=today - timedelta(days=1),
        injected=injected,
        stored=stored_counts(connections),
        inject_s=injected_at - began,
        process_s=processed_at - injected_at,
    )
