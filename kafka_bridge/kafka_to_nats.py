"""Bring readings from a Kafka topic into the readings stream, for sources that only speak Kafka.

A consumer group reads a chunk of up to ``batch`` records; each record's readings go to
:class:`~smart_meter.publisher.ReadingPublisher` (partitioned subjects, dedup ids from the
natural keys); once JetStream acked all of them the chunk's offsets are committed
(``enable.auto.commit=false``). A crash between the JetStream ack and the commit means
the chunk is read again and published again with the same ids, which JetStream drops
within its duplicate window: exactly-once into the stream.

Each Kafka record is published on its own (never merged with its neighbours), so the
JetStream messages, and their dedup ids, are the same however a restart cuts chunks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from nats.aio.client import Client as NatsClient

from kafka_bridge.dead_letter import DeadLetters
from kafka_bridge.settings import BridgeSettings
from kafka_bridge.shutdown import Shutdown
from smart_meter.codec import ReadingError, ReadingErrorKind, decode_message
from smart_meter.publisher import ReadingPublisher

_log = logging.getLogger(__name__)
SOURCE = "kafka-bridge/kafka-to-nats"


@dataclass
class KafkaToNatsCounters:
    """What the bridge did; ``duplicates`` are readings JetStream already had (re-reads)."""

    chunks: int = 0
    records: int = 0
    readings: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    commits: int = 0


def consumer_config(bootstrap: str, group: str, instance_id: str | None = None) -> dict[str, Any]:
    """librdkafka consumer settings: manual commits, a new group starts at the beginning."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "client.id": "smart-meter-kafka-bridge",
    }
    if instance_id:
        config["group.instance.id"] = instance_id
    return config


def next_offsets(positions: Iterable[tuple[str, int, int]]) -> list[TopicPartition]:
    """Offsets to commit for consumed (topic, partition, offset): one past the highest each."""
    highest: dict[tuple[str, int], int] = {}
    for topic, partition, offset in positions:
        key = (topic, partition)
        highest[key] = max(offset, highest.get(key, -1))
    return [TopicPartition(t, p, offset + 1) for (t, p), offset in sorted(highest.items())]


def origin_label(topic: str, partition: int, offset: int) -> str:
    return f"kafka:{topic}/{partition}@{offset}"


class KafkaToNats:
    """The Kafka→NATS direction: poll a chunk, publish, wait for JetStream, commit."""

    def __init__(
        self,
        nc: NatsClient,
        bootstrap: str,
        topic: str,
        settings: BridgeSettings,
        partitions: int,
    ) -> None:
        self.topic = topic
        self.settings = settings
        self.publisher = ReadingPublisher(nc, partitions, batch_size=settings.readings_per_message)
        self.dead_letters = DeadLetters(nc.jetstream(), SOURCE)
        config = consumer_config(bootstrap, settings.durable, settings.instance_id)
        self.consumer = Consumer(config, logger=_log)
        self.counters = KafkaToNatsCounters()

    async def run(self, shutdown: Shutdown) -> KafkaToNatsCounters:
        """Bridge until a stop is requested; the chunk in flight is finished first."""
        self.consumer.subscribe([self.topic])
        _log.info("kafka-to-nats ready: group=%s topic=%s", self.settings.durable, self.topic)
        try:
            while not shutdown.requested:
                chunk = await asyncio.to_thread(
                    self.consumer.consume, self.settings.batch, self.settings.fetch_timeout_s
                )
                if chunk:
                    await self.handle(chunk)
        finally:
            await asyncio.to_thread(self.consumer.close)
        return self.counters

    async def handle(self, chunk: list[Any]) -> None:
        """Publish a chunk's readings, wait for every JetStream ack, then commit its offsets."""
        records = [record for record in chunk if not self._is_error(record)]
        for record in records:
            await self._publish(record)
        await self.publisher.flush()
        await self._commit(records)
        self._count(len(records))

    def _is_error(self, record: Any) -> bool:
        error = record.error()
        if error is None:
            return False
        if error.fatal():
            raise KafkaException(error)
        _log.warning("Kafka consumer: %s", error)
        return True

    async def _publish(self, record: Any) -> None:
        origin = origin_label(record.topic(), record.partition(), record.offset())
        data: bytes | None = record.value()
        if not data:
            empty = ReadingError("(message)", "empty record", kind=ReadingErrorKind.NOT_JSON)
            await self.dead_letters.send(b"", empty, origin)
            return
        try:
            decoded = decode_message(data)
        except ReadingError as error:
            await self.dead_letters.send(data, error, origin)
            return
        await self.dead_letters.send_rejected(decoded, origin)
        await self.publisher.publish(decoded.readings)

    async def _commit(self, records: list[Any]) -> None:
        offsets = next_offsets((r.topic(), r.partition(), r.offset()) for r in records)
        if not offsets:
            return
        try:
            await asyncio.to_thread(self.consumer.commit, offsets=offsets, asynchronous=False)
        except KafkaException as error:  # e.g. partitions revoked: the next owner re-reads
            _log.warning("commit failed (chunk will be re-read, JetStream dedups): %s", error)
            return
        self.counters.commits += 1

    def _count(self, records: int) -> None:
        counters, stats = self.counters, self.publisher.stats
        counters.chunks += 1
        counters.records += records
        counters.readings = stats.readings
        counters.duplicates = stats.duplicates
        counters.dead_letters = self.dead_letters.count
