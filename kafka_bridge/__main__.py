"""Run one direction of the Kafka bridge until SIGTERM/SIGINT; print its counters on exit.

    python -m kafka_bridge nats-to-kafka [--durable NAME] [--topic T] [--batch N]
    python -m kafka_bridge kafka-to-nats [--durable GROUP] [--topic T] [--batch N]

Addresses come from ``SMART_METER_*`` (see :class:`smart_meter.settings.ConnectionSettings`),
bridge defaults from ``SMART_METER_BRIDGE_*`` (see :class:`.settings.BridgeSettings`).
Run one nats-to-kafka process per durable: the ordering argument assumes one reader.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import asdict
from typing import Any

import nats
from nats.aio.client import Client as NatsClient

from kafka_bridge.kafka_to_nats import KafkaToNats
from kafka_bridge.nats_to_kafka import NatsToKafka
from kafka_bridge.producer import ReadingProducer
from kafka_bridge.settings import KAFKA_SOURCE_TOPIC, BridgeSettings
from kafka_bridge.shutdown import Shutdown
from kafka_bridge.topics import ensure_topic
from smart_meter.settings import ConnectionSettings, checked_connections
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import KAFKA_READINGS_TOPIC

_log = logging.getLogger("kafka_bridge")
DIRECTIONS = ("nats-to-kafka", "kafka-to-nats")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m kafka_bridge",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("direction", choices=DIRECTIONS)
    parser.add_argument("--durable", help="JetStream durable (nats-to-kafka) or Kafka group id")
    parser.add_argument("--topic", help=f"default {KAFKA_READINGS_TOPIC} / {KAFKA_SOURCE_TOPIC}")
    parser.add_argument("--batch", type=int, help="messages per fetch+ack or per commit")
    parser.add_argument("--ack-wait-s", type=float, help="JetStream ack wait (nats-to-kafka)")
    parser.add_argument("--start-seq", type=int, help="stream seq a new durable starts at")
    parser.add_argument("--instance-id", help="Kafka static membership id (kafka-to-nats)")
    parser.add_argument(
        "--subject", action="append", dest="filter_subjects", help="mirror only these subjects"
    )
    return parser.parse_args(argv)


def bridge_settings(args: argparse.Namespace) -> BridgeSettings:
    """Environment defaults, overridden by the options given on the command line."""
    fields = (
        "durable", "topic", "batch", "ack_wait_s", "start_seq", "filter_subjects", "instance_id",
    )  # fmt: skip
    given: dict[str, Any] = {
        name: getattr(args, name) for name in fields if getattr(args, name) is not None
    }
    return BridgeSettings(**given)


def install_signal_handlers(shutdown: Shutdown) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, shutdown.request)


async def run(direction: str, settings: BridgeSettings, connections: ConnectionSettings) -> str:
    """Run one direction until stopped; return its counters as ``key=value`` text."""
    shutdown = Shutdown(settings.stop_grace_s)
    install_signal_handlers(shutdown)
    nc = await nats.connect(
        **connections.nats_connect_options(),
        name=f"kafka-bridge {direction}",
        max_reconnect_attempts=-1,
    )
    try:
        await ensure_readings_streams(nc.jetstream())
        if direction == "nats-to-kafka":
            counters: object = await _nats_to_kafka(nc, settings, connections, shutdown)
        else:
            counters = await _kafka_to_nats(nc, settings, connections, shutdown)
    finally:
        await nc.drain()
    return format_counters(direction, counters)


async def _nats_to_kafka(
    nc: NatsClient, settings: BridgeSettings, connections: ConnectionSettings, shutdown: Shutdown
) -> object:
    topic = settings.kafka_topic(KAFKA_READINGS_TOPIC)
    ensure_topic(connections.kafka_bootstrap, topic, connections.partitions)
    producer = ReadingProducer(connections.kafka_bootstrap, topic)
    try:
        return await NatsToKafka(nc, producer, settings, connections.partitions).run(shutdown)
    finally:
        left = producer.close(settings.stop_grace_s)
        if left:
            _log.warning("%d records undelivered at exit (their batch stays un-acked)", left)


async def _kafka_to_nats(
    nc: NatsClient, settings: BridgeSettings, connections: ConnectionSettings, shutdown: Shutdown
) -> object:
    topic = settings.kafka_topic(KAFKA_SOURCE_TOPIC)
    bridge = KafkaToNats(nc, connections.kafka_bootstrap, topic, settings, connections.partitions)
    return await bridge.run(shutdown)


def format_counters(direction: str, counters: object) -> str:
    """``<direction> stopped: key=value ...`` from a counters dataclass."""
    values = asdict(counters)  # type: ignore[call-overload]
    return f"{direction} stopped: " + " ".join(f"{k}={v}" for k, v in values.items())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    summary = asyncio.run(run(args.direction, bridge_settings(args), checked_connections()))
    print(summary, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
