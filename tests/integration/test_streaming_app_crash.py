"""The streaming app as real processes: SIGKILLed under load, and two replicas sharing work.

One fleet with the injector's default fault mix is published once to a stream of this
module's own. A reference deployment processes it without interruption; every other
deployment reads the same stream (own durables, state and lease buckets, keyspace) and
must end with exactly the reference's rows: every unique reading stored once with the
same flags, and the same gaps, alerts, voltage episodes, late events and running totals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, NotFoundError

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from tests.integration.streaming_app_readback import (
    Snapshot,
    drop_keyspace,
    expected_flags,
    expected_totals_rows,
    snapshot,
)
from tests.integration.streaming_app_support import (
    PARTITIONS,
    AppNames,
    FleetInput,
    Names,
    Outgoing,
    create_stream,
    delete_deployment,
    fleet_input,
    publish,
    remaining,
    wait_for,
)

pytestmark = pytest.mark.integration

METERS, INTERVALS = 1000, 60
KILLS = 4


@dataclass(frozen=True)
class Published:
    names: Names
    input: FleetInput
    messages: int
    sent: dict[int, list[tuple[int, Outgoing]]]


@pytest.fixture(scope="module")
def published(connections: ConnectionSettings) -> Iterator[Published]:
    """The fleet's messages in a stream of their own (deleted afterwards)."""
    names = Names()
    data = fleet_input(METERS, INTERVALS)

    async def setup() -> dict[int, list[tuple[int, Outgoing]]]:
        nc = await nats.connect(connections.nats_url)
        js = nc.jetstream()
        await create_stream(js, names)
        sent = await publish(js, names, data.messages)
        await nc.close()
        return sent

    sent = asyncio.run(setup())
    yield Published(names, data, len(data.messages), sent)

    async def teardown() -> None:
        nc = await nats.connect(connections.nats_url)
        await nc.jetstream().delete_stream(names.stream)
        await nc.close()

    asyncio.run(teardown())


async def _owners(js: JetStreamContext, app: AppNames) -> dict[int, str]:
    try:
        kv = await js.key_value(f"coord_{app.tag}")
    except BucketNotFoundError:
        return {}
    owners = {}
    for partition in range(PARTITIONS):
        try:
            entry = await kv.get(f"lease.p{partition}")
        except NotFoundError:
            continue
        owners[partition] = (entry.value or b"").decode()
    return owners


class Deployment:
    """One deployment of the app over the published stream; cleans up after itself."""

    def __init__(self, connections: ConnectionSettings, published: Published, name: str) -> None:
        self.connections = connections
        self.published = published
        self.names = published.names.app(name)
        self.processes: list[AppProcess] = []

    def start(self, log_dir: Path, *args: str) -> AppProcess:
        log = log_dir / f"{self.names.tag}-{len(self.processes)}.log"
        process = AppProcess(self.names.env(self.connections), log, *args)
        self.processes.append(process)
        return process

    async def __aenter__(self) -> Deployment:
        self.nc = await nats.connect(self.connections.nats_url)
        self.js = self.nc.jetstream()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.alive():
                process.kill()
        await delete_deployment(self.js, self.names)
        await self.nc.close()
        await asyncio.to_thread(drop_keyspace, self.connections, self.names.keyspace)

    async def left(self) -> int:
        return await remaining(self.js, self.names)

    async def wait_done(self, timeout_s: float = 300) -> None:
        async def done() -> bool:
            return await self.left() == 0

        await wait_for(done, timeout_s, "every message acked")

    async def wait_progress(self, below: int, process: AppProcess) -> None:
        async def progressed() -> bool:
            assert process.alive(), process.log_text()[-3000:]
            return await self.left() <= below

        await wait_for(progressed, 180, f"at most {below} messages left")

    def snapshot(self) -> Snapshot:
        return snapshot(self.connections, self.names.keyspace)


@pytest.fixture(scope="module")
def reference(
    connections: ConnectionSettings, published: Published, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Snapshot]:
    """What an uninterrupted run of the same input stores."""
    log_dir = tmp_path_factory.mktemp("reference")

    async def run() -> Snapshot:
        async with Deployment(connections, published, "ref") as deployment:
            process = deployment.start(log_dir)
            await deployment.wait_done()
            assert process.terminate() == 0, process.log_text()[-3000:]
            return await asyncio.to_thread(deployment.snapshot)

    yield asyncio.run(run())


def assert_same_as_reference(found: Snapshot, reference: Snapshot, sent: FleetInput) -> None:
    assert found.reading_keys_ms() | found.late_keys_ms() == sent.keys
    assert not found.reading_keys_ms() & found.late_keys_ms()
    assert found.readings == reference.readings
    assert found.late == reference.late
    assert found.gaps == reference.gaps
    assert found.alerts == reference.alerts
    assert found.voltage == reference.voltage
    assert found.totals == reference.totals


async def test_reference_run_flags_readings_as_the_validator_does_in_stream_order(
    reference: Snapshot, published: Published
) -> None:
    assert reference.readings == await expected_flags(published.sent)
    assert reference.reading_keys_ms() | reference.late_keys_ms() == published.input.keys
    assert len(reference.gaps) > 50
    assert len(reference.alerts) > 50
    assert len(reference.voltage) > 5
    assert reference.totals == await expected_totals_rows(published.sent)
    meters = sorted({meter_id for meter_id, _ in reference.reading_keys_ms()})
    assert sorted(row[0] for row in reference.totals) == meters  # an hour: one day per meter


async def test_sigkill_under_load_stores_every_reading_once_and_the_same_events(
    connections: ConnectionSettings, published: Published, reference: Snapshot, tmp_path: Path
) -> None:
    async with Deployment(connections, published, "kill") as deployment:
        step = published.messages // (KILLS + 2)
        for kill in range(1, KILLS + 1):
            process = deployment.start(tmp_path)
            await deployment.wait_progress(published.messages - kill * step, process)
            process.kill()
        last = deployment.start(tmp_path)
        await deployment.wait_done()
        assert last.terminate() == 0, last.log_text()[-3000:]
        found = await asyncio.to_thread(deployment.snapshot)
    assert_same_as_reference(found, reference, published.input)


async def test_two_replicas_share_partitions_and_one_takes_over_when_the_other_dies(
    connections: ConnectionSettings, published: Published, reference: Snapshot, tmp_path: Path
) -> None:
    async with Deployment(connections, published, "pair") as deployment:
        first = deployment.start(tmp_path, "--replica-id", "first")

        async def owns_all(replica: str) -> bool:
            owners = await _owners(deployment.js, deployment.names)
            return len(owners) == PARTITIONS and set(owners.values()) == {replica}

        async def shared() -> bool:
            owners = await _owners(deployment.js, deployment.names)
            count = {name: list(owners.values()).count(name) for name in ("first", "second")}
            return count == {"first": PARTITIONS // 2, "second": PARTITIONS // 2}

        await wait_for(lambda: owns_all("first"), 60, "the first replica to own everything")
        second = deployment.start(tmp_path, "--replica-id", "second")
        await wait_for(shared, 60, "the partitions to be shared half and half")
        await deployment.wait_progress(published.messages // 2, second)
        first.kill()
        await wait_for(lambda: owns_all("second"), 60, "the survivor to own everything")
        await deployment.wait_done()
        assert second.terminate() == 0, second.log_text()[-3000:]
        assert await _owners(deployment.js, deployment.names) == {}  # released on SIGTERM
        found = await asyncio.to_thread(deployment.snapshot)
    assert_same_as_reference(found, reference, published.input)
