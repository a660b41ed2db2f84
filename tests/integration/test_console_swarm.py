"""The console's swarm backend on a real Docker Swarm: the project's own engine,
``swarm init`` on loopback (through the console's ``up()``), the images built from the
mmdebstrap base, and NATS, the streaming app and the injector deployed as services.

``scale('inject', 2)`` gives two injector tasks, slots 1 and 2 of ``--replicas 2`` (so
distinct slices of a fleet twice the size), stored readings/s rises, and ``stop_all``
leaves no service, task, container, config, secret or process of the console behind.
The servers (Cassandra, InfluxDB) are the shared local stack's, reached over the host
network; the swarm is made on the project's engine when it is not in one, and left after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import psutil
import pytest
from nats.aio.client import Client as NatsClient

from console.settings import ConsoleSettings
from console.swarm import SwarmBackend
from console.verbs import Console
from smart_meter.settings import ConnectionSettings
from stack.docker import DockerService
from stack.settings import StackSettings
from tests.conftest import free_port
from tests.docker_support import build, engine_client, start_engine
from tests.integration.console_support import meters_after, rate_over, stored_total, wait_until
from tests.integration.streaming_app_readback import drop_keyspace
from tests.integration.streaming_app_support import AppNames, Names

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(3600)]

IMAGES = ["nats", "inject", "streaming-app"]
METERS = 60  # per injector task
RATE = 20.0  # readings/s per injector task
WINDOW_S = 45.0
DEPLOY_TIMEOUT_S = 600.0


@pytest.fixture(scope="module")
def engine() -> Iterator[DockerService]:
    """The project's own engine (reused like the local stack), the images built in it, and
    a swarm on loopback, left again at the end when this test made it."""
    service = start_engine(StackSettings())
    build(IMAGES, service.settings)
    client = engine_client(service)
    joined = client.info()["Swarm"]["LocalNodeState"] != "active"
    try:
        yield service
    finally:
        if joined and client.info()["Swarm"]["LocalNodeState"] == "active":
            client.swarm.leave(force=True)
        client.close()


@pytest.fixture
def deployment(
    engine: DockerService,
    connections: ConnectionSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Console, SwarmBackend, AppNames]]:
    app = Names().app("sw")
    for key, value in app.env(connections).items():
        if key.startswith("SMART_METER_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("SMART_METER_CONSOLE_SWARM_PREFIX", f"sm{app.tag.lower()}")
    monkeypatch.setenv("SMART_METER_CONSOLE_STREAM", app.input.stream)
    monkeypatch.setenv("SMART_METER_CONSOLE_SUBJECT_PREFIX", app.input.prefix)
    for name in ("SWARM_NATS_PORT", "SWARM_NATS_MONITOR_PORT"):
        monkeypatch.setenv(f"SMART_METER_CONSOLE_{name}", str(free_port()))
    backend = SwarmBackend(ConsoleSettings())
    console = Console(backend)
    try:
        yield console, backend, app
    finally:
        console.stop_all()
        drop_keyspace(connections, app.keyspace)


async def nats_meters(backend: SwarmBackend, stream: str, after_seq: int) -> set[str]:
    """Meters of the stream after ``after_seq`` (the console's NATS, with its password)."""
    nc = await connect(backend)
    try:
        return await meters_after(nc.jetstream(), stream, after_seq, limit=2000)
    finally:
        await nc.close()


async def stream_seq(backend: SwarmBackend, stream: str) -> int:
    nc = await connect(backend)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.last_seq)
    finally:
        await nc.close()


async def connect(backend: SwarmBackend) -> NatsClient:
    password = backend.settings.swarm_password_file().read_text().strip()
    return await nats.connect(backend.nats_url(), user="smart_meter", password=password)


def task_slots(backend: SwarmBackend, name: str) -> list[int]:
    service = backend.find(name)
    assert service is not None, name
    tasks = service.tasks(filters={"desired-state": "running"})  # type: ignore[no-untyped-call]
    return sorted(int(t["Slot"]) for t in tasks if t["Status"]["State"] == "running")


def test_scaling_the_injector_service_adds_a_slice_and_stored_readings_per_second_rise(
    deployment: tuple[Console, SwarmBackend, AppNames],
    connections: ConnectionSettings,
) -> None:
    console, backend, app = deployment
    client = backend.client
    ours = ConnectionSettings()
    console.up()
    console.run_app_streaming(replicas=1, preset="demo")
    console.run_inject(meters=METERS, rate=RATE, faults="none")

    def running(*expected: tuple[str, int]) -> bool:
        rows = {row.service: row for row in backend.rows()}
        return all(rows[name].running == count == rows[name].wanted for name, count in expected)

    wait_until(
        lambda: running(("nats", 1), ("streaming-app", 1), ("inject", 1)),
        DEPLOY_TIMEOUT_S,
        "the services",
    )
    wait_until(lambda: stored_total(ours) > 0, DEPLOY_TIMEOUT_S, "the first stored readings")
    rate_over(ours, WINDOW_S)  # the start-up backlog drains in this window
    one_task_per_s = rate_over(ours, WINDOW_S)

    seq_before = asyncio.run(stream_seq(backend, app.input.stream))
    console.scale("inject", 2)
    inject_name = f"{backend.prefix}-inject"
    inject_service = backend.find(inject_name)
    assert inject_service is not None
    args = inject_service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"]
    assert args[args.index("--replicas") + 1] == "2"
    assert args[args.index("--meters") + 1] == str(2 * METERS)
    wait_until(
        lambda: task_slots(backend, inject_name) == [1, 2], DEPLOY_TIMEOUT_S, "two injector tasks"
    )
    added = {f"M{index:07d}" for index in range(METERS, 2 * METERS)}  # slot 1 even, 2 odd
    wait_until(
        lambda: added <= asyncio.run(nats_meters(backend, app.input.stream, seq_before)),
        DEPLOY_TIMEOUT_S,
        "readings of every meter the two slices added",
    )

    rate_over(ours, WINDOW_S)
    two_tasks_per_s = rate_over(ours, WINDOW_S)
    print(f"stored readings/s: {one_task_per_s:.1f} (1 injector task), {two_tasks_per_s:.1f} (2)")
    assert two_tasks_per_s > 1.25 * one_task_per_s, (one_task_per_s, two_tasks_per_s)

    prefix = backend.prefix
    ids = {s.id for s in client.services.list() if (s.name or "").startswith(prefix)}
    assert len(ids) == 3  # nats, streaming-app, inject
    console.stop_all()
    assert not [t for t in client.api.tasks() if t["ServiceID"] in ids]  # type: ignore[no-untyped-call]
    assert not [s for s in client.services.list() if (s.name or "").startswith(prefix)]
    names = [name for c in client.api.containers(all=True) for name in c["Names"]]
    assert not [name for name in names if prefix in name]
    assert not client.configs.list(filters={"label": f"smart-meter.console={prefix}"})
    assert not client.secrets.list(filters={"label": f"smart-meter.console={prefix}"})
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if app.input.stream in " ".join(p.info["cmdline"] or [])
    ]
    assert not leftovers
