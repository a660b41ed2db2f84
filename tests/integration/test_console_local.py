"""The console's local backend on the real shared stack: run the app and one injector,
``scale('inject', 2)``, read ``status()``, then ``stop_all()``.

Scaling the injector to 2 restarts it as two processes with distinct slices of a fleet
twice the size, so stored readings/s rises; ``stop_all`` leaves no process behind.
Rates are compared over windows with generous bounds; nothing is timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats
import psutil
import pytest
from nats.js.errors import NotFoundError

from console.catalogue import service_kind
from console.local import LocalBackend
from console.verbs import Console
from smart_meter.settings import ConnectionSettings
from tests.integration.console_support import (
    last_seq,
    meters_after,
    rate_over,
    stored_total,
    wait_until,
)
from tests.integration.streaming_app_readback import drop_keyspace
from tests.integration.streaming_app_support import (
    AppNames,
    Names,
    delete_deployment,
    remaining,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
METERS = 60  # per injector replica
RATE = 20.0  # readings/s per injector replica
WINDOW_S = 60.0
START_TIMEOUT_S = 300.0
BACKLOG_MESSAGES = 32


@pytest.fixture
def deployment(
    connections: ConnectionSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Console, AppNames, ConnectionSettings]]:
    """A console whose replicas use this test's own names; everything removed after."""
    app = Names().app("con")
    for key, value in app.env(connections).items():
        if key.startswith("SMART_METER_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMART_METER_CONSOLE_SERVICES_DIR", str(tmp_path / "services"))
    monkeypatch.setenv("SMART_METER_CONSOLE_STREAM", app.input.stream)
    monkeypatch.setenv("SMART_METER_CONSOLE_SUBJECT_PREFIX", app.input.prefix)
    ours = ConnectionSettings()
    console = Console(LocalBackend())
    try:
        yield console, app, ours
    finally:
        console.stop_all()
        asyncio.run(remove_names(ours, app))
        drop_keyspace(ours, app.keyspace)


async def remove_names(connections: ConnectionSettings, app: AppNames) -> None:
    nc = await nats.connect(connections.nats_url)
    try:
        js = nc.jetstream()
        await delete_deployment(js, app)
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(app.input.stream)
    finally:
        await nc.close()


async def stream_seq(connections: ConnectionSettings, stream: str) -> int:
    nc = await nats.connect(connections.nats_url)
    try:
        return await last_seq(nc.jetstream(), stream)
    finally:
        await nc.close()


async def meters_since(connections: ConnectionSettings, stream: str, after_seq: int) -> set[str]:
    nc = await nats.connect(connections.nats_url)
    try:
        return await meters_after(nc.jetstream(), stream, after_seq, limit=2000)
    finally:
        await nc.close()


async def unacked(connections: ConnectionSettings, app: AppNames) -> int:
    nc = await nats.connect(connections.nats_url)
    try:
        return await remaining(nc.jetstream(), app)
    finally:
        await nc.close()


def caught_up(connections: ConnectionSettings, app: AppNames) -> bool:
    """The app keeps up: a window then measures the injectors, not a backlog drained."""
    return asyncio.run(unacked(connections, app)) <= BACKLOG_MESSAGES


def shell(*verb: str) -> subprocess.CompletedProcess[str]:
    """``python start_services.py local VERB …`` in a process of its own (same settings)."""
    command = [sys.executable, str(ROOT / "start_services.py"), "local", *verb]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def group_alive(group: int) -> bool:
    for process in psutil.process_iter(["pid"]):
        try:
            if process.status() != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == group:
                return True
        except (psutil.Error, ProcessLookupError):
            continue
    return False


def test_scaling_the_injector_adds_a_slice_and_stored_readings_per_second_rise(
    deployment: tuple[Console, AppNames, ConnectionSettings],
) -> None:
    console, app, connections = deployment
    backend = console.backend
    assert isinstance(backend, LocalBackend)
    inject = service_kind("inject")

    console.run_app_streaming(replicas=1, preset="demo")
    console.run_inject(meters=METERS, rate=RATE, faults="none")
    wait_until(lambda: stored_total(connections) > 0, START_TIMEOUT_S, "the first stored readings")
    wait_until(lambda: caught_up(connections, app), START_TIMEOUT_S, "the app to catch up")
    one_replica_per_s = rate_over(connections, WINDOW_S)
    rows = {row.service: row for row in console.rows()}
    assert (rows["inject"].wanted, rows["inject"].running) == (1, 1)
    assert rows["streaming-app"].health == "ok"
    assert (rows["streaming-app"].stored_per_s or 0) > 0

    seq_before_scale = asyncio.run(stream_seq(connections, app.input.stream))
    scaled = shell("scale", "inject", "2")  # a second console finds the first's replicas
    assert scaled.returncode == 0, scaled.stderr
    records = backend.running(inject)
    assert sorted((r.replica, r.replicas) for r in records) == [(0, 2), (1, 2)]
    assert all(r.argv[r.argv.index("--meters") + 1] == str(2 * METERS) for r in records)
    added = {f"M{index:07d}" for index in range(METERS, 2 * METERS)}  # even: slice 0, odd: 1
    wait_until(
        lambda: added <= asyncio.run(meters_since(connections, app.input.stream, seq_before_scale)),
        START_TIMEOUT_S,
        "readings of every meter the two slices added",
    )

    wait_until(lambda: caught_up(connections, app), START_TIMEOUT_S, "the app to catch up")
    two_replicas_per_s = rate_over(connections, WINDOW_S)
    print(f"stored readings/s: {one_replica_per_s:.1f} (1 injector), {two_replicas_per_s:.1f} (2)")
    assert two_replicas_per_s > 1.25 * one_replica_per_s, (one_replica_per_s, two_replicas_per_s)
    table = shell("status")
    assert table.returncode == 0, table.stderr
    inject_row = next(
        line.split() for line in table.stdout.splitlines() if line.startswith("inject")
    )
    assert inject_row[1:4] == ["2", "2", "ok"]

    recorded = [
        r.pid for kind in ("inject", "streaming-app") for r in backend.running(service_kind(kind))
    ]
    console.stop_all()
    assert all(not group_alive(pid) for pid in recorded)
    assert all(backend.running(service_kind(kind)) == [] for kind in ("inject", "streaming-app"))
    rows = {row.service: row for row in console.rows()}
    assert all(row.running == 0 and row.health == "stopped" for row in rows.values())
