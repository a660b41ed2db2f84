"""An idempotent Kafka producer that reports when every record of a batch is confirmed.

``enable.idempotence`` (with ``acks=all``) keeps each partition's records in the order
they were produced, even across internal retries, and never writes a retried record
twice. ``message.timeout.ms=0`` makes a Kafka outage back-pressure rather than a
failure: records wait in librdkafka and the bridge keeps the JetStream batch un-acked
(extending its ack wait) until Kafka is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from confluent_kafka import KafkaError, Producer

from kafka_bridge.records import KafkaRecord

_log = logging.getLogger(__name__)


class KafkaDeliveryError(RuntimeError):
    """Kafka refused records for good; the batch must not be acked."""

    def __init__(self, failed: int, first: KafkaError) -> None:
        self.failed, self.first = failed, first
        super().__init__(f"{failed} records not delivered to Kafka, first error: {first}")


def producer_config(bootstrap: str, linger_ms: int = 5) -> dict[str, Any]:
    """librdkafka settings: idempotent, all replicas, no local give-up."""
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": 0,
        "linger.ms": linger_ms,
        "compression.type": "lz4",
        "client.id": "smart-meter-kafka-bridge",
    }


class DeliveryTracker:
    """Counts the delivery reports of one batch (librdkafka calls it from ``flush``)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.delivered = 0
        self.errors: list[KafkaError] = []

    def __call__(self, error: KafkaError | None, _message: object) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.errors.append(error)

    @property
    def settled(self) -> bool:
        return self.delivered + len(self.errors) >= self.expected


class ReadingProducer:
    """Produces a batch of records to one topic and waits for Kafka to confirm them."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.producer = Producer(producer_config(bootstrap), logger=_log)

    def send(self, records: Iterable[KafkaRecord]) -> DeliveryTracker:
        """Hand every record to librdkafka, in order; return the batch's tracker."""
        batch = list(records)
        tracker = DeliveryTracker(len(batch))
        for record in batch:
            self._produce(record, tracker)
        return tracker

    def _produce(self, record: KafkaRecord, tracker: DeliveryTracker) -> None:
        while True:
            try:
                self.producer.produce(
                    self.topic,
                    value=record.value,
                    key=record.key,
                    partition=record.partition,
                    headers=record.headers,
                    on_delivery=tracker,
                )
                return
            except BufferError:  # local queue full: serve delivery reports, then retry
                self.producer.poll(0.05)

    async def confirm(
        self,
        tracker: DeliveryTracker,
        keepalive: Callable[[], Awaitable[None]],
        keepalive_every_s: float,
        give_up: Callable[[], bool],
    ) -> bool:
        """Wait until Kafka confirmed the batch: True, or False if ``give_up()`` said stop.

        Calls ``keepalive`` every ``keepalive_every_s`` while waiting (to extend the
        JetStream ack wait). Raises :class:`KafkaDeliveryError` if any record failed.
        """
        last_keepalive = time.monotonic()
        while not tracker.settled:
            await asyncio.to_thread(self.producer.flush, min(keepalive_every_s, 0.5))
            if tracker.settled or give_up():
                break
            if time.monotonic() - last_keepalive >= keepalive_every_s:
                await keepalive()
                last_keepalive = time.monotonic()
        if tracker.errors:
            raise KafkaDeliveryError(len(tracker.errors), tracker.errors[0])
        return tracker.settled

    def close(self, timeout_s: float) -> int:
        """Flush what is left; return how many records were still undelivered."""
        return int(self.producer.flush(timeout_s))
