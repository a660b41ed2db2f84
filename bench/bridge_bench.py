"""Readings per second the Kafka bridge moves from NATS JetStream to Kafka.

    python -m bench.bridge_bench [--readings N] [--readings-per-message 100,1] [--fetch-batch B]

For each message size it publishes N readings (meters of a unique prefix) to the
readings stream first, then times one in-process NATS→Kafka bridge draining them from
a new durable into a new topic: from the start of the bridge until its durable's ack
floor passes the last published message (every reading confirmed by Kafka, acks=all).
The stream is shared: readings others publish meanwhile are moved and counted too.
Needs the local stack (``python start_services.py up nats kafka``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime

import confluent_kafka
import nats
from confluent_kafka.admin import AdminClient
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from inject.fleet import Fleet, FleetConfig
from kafka_bridge.nats_to_kafka import NatsToKafka, NatsToKafkaCounters, ensure_durable
from kafka_bridge.producer import ReadingProducer
from kafka_bridge.settings import BridgeSettings
from kafka_bridge.shutdown import Shutdown
from kafka_bridge.topics import ensure_topic
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_STREAM


def bench_readings(count: int, prefix: str) -> list[Reading]:
    """Fleet readings (all fields filled) under meter ids no one else publishes."""
    fleet = Fleet(FleetConfig(meters=1000, interval_s=1800), datetime(2024, 1, 1, tzinfo=UTC))
    readings: list[Reading] = []
    while len(readings) < count:
        readings.extend(
            r.model_copy(update={"meter_id": f"{prefix}{r.meter_id}"}) for r in fleet.tick()[1]
        )
    return readings[:count]


async def publish(
    nc: NatsClient, readings: list[Reading], per_message: int, partitions: int
) -> int:
    """Publish and wait for every ack; return the stream's last sequence afterwards."""
    publisher = ReadingPublisher(nc, partitions, batch_size=per_message, max_in_flight=512)
    began = time.perf_counter()
    for start in range(0, len(readings), 10_000):
        await publisher.publish(readings[start : start + 10_000])
    await publisher.flush()
    elapsed = time.perf_counter() - began
    print(f"  published {publisher.stats.readings:,} readings in {publisher.stats.messages:,} "
          f"messages ({len(readings) / elapsed:,.0f} readings/s)")  # fmt: skip
    info = await nc.jetstream().stream_info(READINGS_STREAM)
    return int(info.state.last_seq)


async def wait_for_ack_floor(
    js: JetStreamContext, durable: str, seq: int, bridge: asyncio.Task[NatsToKafkaCounters]
) -> None:
    """Poll the durable (every 20 ms) until its ack floor reaches ``seq``."""
    while True:
        if bridge.done():
            bridge.result()  # raises what stopped the bridge
            raise RuntimeError("the bridge stopped before draining the stream")
        info = await js.consumer_info(READINGS_STREAM, durable)
        if info.ack_floor and info.ack_floor.stream_seq >= seq:
            return
        await asyncio.sleep(0.02)


async def drain(
    nc: NatsClient, connections: ConnectionSettings, settings: BridgeSettings, last: int
) -> tuple[float, int]:
    """Run the bridge until the durable passed ``last``; return (seconds, readings moved)."""
    topic = settings.kafka_topic("")
    ensure_topic(connections.kafka_bootstrap, topic, connections.partitions)
    producer = ReadingProducer(connections.kafka_bootstrap, topic)
    bridge = NatsToKafka(nc, producer, settings, connections.partitions)
    shutdown = Shutdown(settings.stop_grace_s)
    await ensure_durable(nc.jetstream(), settings)  # before the clock starts, and polled below
    began = time.perf_counter()
    running = asyncio.create_task(bridge.run(shutdown))
    await wait_for_ack_floor(nc.jetstream(), settings.durable, last, running)
    elapsed = time.perf_counter() - began
    shutdown.request()
    counters = await running
    producer.close(10)
    return elapsed, counters.readings


async def one_run(
    nc: NatsClient, connections: ConnectionSettings, args: argparse.Namespace, per_message: int
) -> None:
    run = uuid.uuid4().hex[:8]
    js = nc.jetstream()
    start_seq = int((await js.stream_info(READINGS_STREAM)).state.last_seq) + 1
    print(f"{per_message} reading(s) per NATS message, fetch batch {args.fetch_batch}:")
    readings = bench_readings(args.readings, f"BB{run}-")
    last = await publish(nc, readings, per_message, connections.partitions)
    settings = BridgeSettings(
        durable=f"bench-{run}", topic=f"bench-{run}", batch=args.fetch_batch, start_seq=start_seq
    )
    try:
        elapsed, moved = await drain(nc, connections, settings, last)
    finally:
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(READINGS_STREAM, settings.durable)
        admin = AdminClient({"bootstrap.servers": connections.kafka_bootstrap})
        for future in admin.delete_topics([f"bench-{run}"], operation_timeout=30).values():
            future.result()
    print(f"  bridge NATS→Kafka: {moved:,} readings in {elapsed:.2f} s = "
          f"{moved / elapsed:,.0f} readings/s")  # fmt: skip


def _server_version(nc: NatsClient) -> str:
    version = nc.connected_server_version
    return f"{version.major}.{version.minor}.{version.patch}"


def machine_line(nc: NatsClient) -> str:
    return (
        f"machine: {platform.platform()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, confluent-kafka {confluent_kafka.version()} "
        f"(librdkafka {confluent_kafka.libversion()[0]}), nats-server {_server_version(nc)}"
    )


async def main_async(args: argparse.Namespace) -> None:
    connections = ConnectionSettings()
    nc = await nats.connect(connections.nats_url)
    try:
        await ensure_readings_streams(nc.jetstream())
        print("command: python -m bench.bridge_bench " + " ".join(sys.argv[1:]))
        print(machine_line(nc))
        for per_message in args.readings_per_message:
            await one_run(nc, connections, args, per_message)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument(
        "--readings-per-message",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[100, 1],
        help="comma-separated message sizes to try (default 100,1)",
    )
    parser.add_argument("--fetch-batch", type=int, default=256, help="bridge --batch")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
