"""Losing a NATS node under load loses nothing and stores nothing twice.

A throw-away 3-node JetStream cluster (``python start_services.py up nats-cluster``'s
nodes, on free ports in a temporary folder) holds a readings stream with a copy on every
node; the streaming app (its buckets and event streams with 3 copies too) runs against
it and writes to the shared Cassandra, in a keyspace of its own. The core publisher sends
8,000 readings, one per message, and the readings stream's leader is SIGKILLed about a
quarter of the way in. Afterwards every reading is in the stream exactly once and in
per-meter order, and in Cassandra exactly once.

Leases live 20 s here (renewed every 2 s): a stream's leader election after a node loss
takes seconds, and a shorter TTL would only make partitions change hands meanwhile.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig

from demo.launch import AppProcess
from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import decode_message
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import readings_stream_config
from smart_meter.subjects import ReadingsDestination
from stack.base import port_is_free
from stack.manager import LocalStack
from stack.nats_cluster import client_urls
from stack.settings import StackSettings
from tests.integration.streaming_app_readback import drop_keyspace, rows
from tests.integration.streaming_app_support import (
    PARTITIONS,
    START,
    AppNames,
    Names,
    delete_deployment,
    remaining,
    wait_for,
    wait_for_drain,
)

pytestmark = pytest.mark.integration

METERS, INTERVALS = 200, 40  # 8,000 readings
KILL_AFTER = METERS * INTERVALS // 4
CHUNK = 100
COPIES = 3


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive ports that are all free right now."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000 - count)
        if all(port_is_free("127.0.0.1", base + i) for i in range(count)):
            return base
    raise AssertionError(f"no {count} consecutive free ports found")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalStack]:
    """Three clustered nodes, healthy (meta leader elected); stopped afterwards."""
    settings = StackSettings(
        state_dir=tmp_path / "state",
        nats_cluster_client_port=free_port_block(3),
        nats_cluster_route_port=free_port_block(3),
        nats_cluster_monitor_port=free_port_block(3),
    )
    local = LocalStack(settings)
    try:
        results = local.up(["nats-cluster"])
        assert all(result.status.healthy for result in results), [r.line() for r in results]
        yield local
    finally:
        local.down(["nats-cluster"])


def fleet_readings() -> list[Reading]:
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=60, seed=11), START)
    return [reading for _, readings in fleet.run(INTERVALS) for reading in readings]


async def connect(connections: ConnectionSettings) -> NatsClient:
    return await nats.connect(
        **connections.nats_connect_options(),
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
    )


async def kill_leader(nc: NatsClient, cluster: LocalStack, stream: str) -> str:
    """SIGKILL the node that leads ``stream``; its name."""
    info = await nc.jetstream().stream_info(stream)
    leader = info.cluster.leader if info.cluster else None
    assert leader in cluster.services, f"stream leader {leader!r} is not a node of the cluster"
    process = cluster.services[leader].running_process()
    assert process is not None, f"{leader} is not running"
    process.kill()
    await asyncio.to_thread(process.wait, 30)
    return leader


async def wait_for_consumers(nc: NatsClient, app: AppNames, process: AppProcess) -> None:
    """Until the app has a durable on every partition: its streams and buckets (3 copies
    each, which needs every node) exist by then, before any node is lost."""
    js = nc.jetstream(timeout=30)

    async def every_partition_bound() -> bool:
        assert process.alive(), process.log_text()[-3000:]
        names = {info.name for info in await js.consumers_info(app.input.stream)}
        return all(f"{app.durable_prefix}-p{p}" in names for p in range(PARTITIONS))

    await wait_for(every_partition_bound, 240, "a consumer on every partition", poll_s=1.0)


async def publish_killing_the_leader(
    nc: NatsClient, cluster: LocalStack, names: Names, readings: list[Reading]
) -> tuple[ReadingPublisher, int]:
    """Publish every reading (one per message); kill the leader after ``KILL_AFTER``."""
    destination = ReadingsDestination(names.stream, names.prefix)
    publisher = ReadingPublisher(nc, PARTITIONS, batch_size=1, destination=destination)
    killed_at = -1
    for start in range(0, len(readings), CHUNK):
        await publisher.publish(readings[start : start + CHUNK])
        stored = publisher.stats.readings + publisher.stats.duplicates
        if killed_at < 0 and stored >= KILL_AFTER:
            killed_at = stored
            await kill_leader(nc, cluster, names.stream)
    await publisher.flush()
    return publisher, killed_at


async def stream_contents(nc: NatsClient, names: Names) -> list[tuple[str, int]]:
    """Every reading key in the stream, in stream order."""
    js = nc.jetstream(timeout=30)
    config = ConsumerConfig(ack_policy=AckPolicy.NONE, inactive_threshold=120)
    subscription = await js.pull_subscribe(f"{names.prefix}.*", stream=names.stream, config=config)
    info = await js.stream_info(names.stream)
    keys: list[tuple[str, int]] = []
    messages = 0
    while messages < info.state.messages:
        for message in await subscription.fetch(500, timeout=30):
            messages += 1
            keys.extend((r.meter_id, r.ts_ms) for r in decode_message(message.data).readings)
    await subscription.unsubscribe()
    return keys


async def test_losing_the_stream_leader_under_load_loses_and_duplicates_nothing(
    cluster: LocalStack, connections: ConnectionSettings, tmp_path: Path
) -> None:
    names = Names()
    app = names.app("nodeloss")
    urls = ",".join(client_urls(cluster.settings))
    on_cluster = connections.model_copy(update={"nats_url": urls})
    readings = fleet_readings()
    expected = {(r.meter_id, r.ts_ms) for r in readings}
    assert len(expected) == METERS * INTERVALS
    nc = await connect(on_cluster)
    process: AppProcess | None = None
    try:
        destination = ReadingsDestination(names.stream, names.prefix)
        config = readings_stream_config(destination=destination, replicas=COPIES)
        await nc.jetstream(timeout=30).add_stream(config)
        env = app.env(on_cluster, LEASE_TTL_S=20.0, RENEW_INTERVAL_S=2.0, ACK_WAIT_S=30.0)
        env["SMART_METER_STREAMS_REPLICAS"] = str(COPIES)
        process = AppProcess(env, tmp_path / "app.log")
        await wait_for_consumers(nc, app, process)

        publisher, killed_at = await publish_killing_the_leader(nc, cluster, names, readings)
        assert 0 < killed_at < len(readings), "the node was not lost while publishing"
        assert publisher.stats.readings + publisher.stats.duplicates == len(readings)

        keys = await stream_contents(nc, names)
        assert len(keys) == len(expected), f"{len(keys)} readings in the stream"
        assert set(keys) == expected
        by_meter: dict[str, list[int]] = defaultdict(list)
        for meter_id, ts_ms in keys:
            by_meter[meter_id].append(ts_ms)
        out_of_order = [m for m, times in by_meter.items() if times != sorted(times)]
        assert not out_of_order, f"meters out of order in the stream: {out_of_order[:5]}"

        js = nc.jetstream(timeout=30)

        async def left() -> int:
            assert process is not None and process.alive(), process and process.log_text()[-3000:]
            return await remaining(js, app)

        await wait_for_drain(left, stall_s=240, what="the app to ack every message")

        async def all_stored() -> bool:
            stored = await asyncio.to_thread(
                rows, on_cluster, app.keyspace, "readings_by_meter_day", "meter_id, ts"
            )
            return len(stored) >= len(expected)

        await wait_for(all_stored, 240, "every reading in Cassandra", poll_s=2.0)
        stored = rows(on_cluster, app.keyspace, "readings_by_meter_day", "meter_id, ts")
        stored_keys = [(m, int(ts.replace(tzinfo=UTC).timestamp() * 1000)) for m, ts in stored]
        assert len(stored_keys) == len(expected)
        assert set(stored_keys) == expected
        assert process.terminate() == 0, process.log_text()[-3000:]
    finally:
        if process is not None and process.alive():
            process.kill()
        await delete_deployment(nc.jetstream(timeout=30), app)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)
