"""Consume the readings stream and store every reading in Cassandra, then ack.

The order that makes a crash harmless: write the sink, then ack. A message is acked
only after all its readings are stored; a redelivery rewrites the same rows (the
natural key is the primary key). Messages that cannot be parsed go to the
dead-letter subject with their original bytes and the reason, then are acked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from smart_meter.codec import ReadingError, decode_message
from smart_meter.storage.readings import ReadingStore, StoredReading
from smart_meter.subjects import DEAD_LETTER_SUBJECT, READINGS_PREFIX, READINGS_STREAM


@dataclass
class ConsumeStats:
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0


class StoreConsumer:
    """A durable pull consumer that stores readings, dead-letters the unparseable."""

    def __init__(
        self, nc: NatsClient, store: ReadingStore, durable: str = "store", fetch_batch: int = 64
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.store = store
        self.durable = durable
        self.fetch_batch = fetch_batch
        self.stats = ConsumeStats()

    async def run_until_idle(
        self, idle_timeout_s: float = 2.0, start_seq: int | None = None
    ) -> ConsumeStats:
        """Drain the stream (from ``start_seq`` if given, when the durable is new).

        Returns when a fetch finds nothing for ``idle_timeout_s``.
        """
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=4096, ack_wait=60)
        if start_seq is not None:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = start_seq
        subscription = await self.js.pull_subscribe(
            f"{READINGS_PREFIX}.*", durable=self.durable, stream=READINGS_STREAM, config=config
        )
        while True:
            try:
                messages = await subscription.fetch(self.fetch_batch, timeout=idle_timeout_s)
            except (NatsTimeoutError, TimeoutError):
                return self.stats
            await self.handle(messages)

    async def handle(self, messages: list[Msg]) -> None:
        rows: list[StoredReading] = []
        for msg in messages:
            try:
                decoded = decode_message(msg.data)
            except ReadingError as error:
                await self.dead_letter(msg.data, error)
                continue
            for rejected in decoded.rejected:
                await self.dead_letter(orjson.dumps(rejected.raw), rejected.error)
            rows.extend(StoredReading(reading) for reading in decoded.readings)
        await asyncio.to_thread(self.store.write, rows, datetime.now(UTC))
        for msg in messages:
            await msg.ack()  # a lost ack means a redelivery, which rewrites the same rows
        self.stats.messages += len(messages)
        self.stats.readings += len(rows)

    async def dead_letter(self, data: bytes, error: ReadingError) -> None:
        headers = {"Smart-Meter-Reason": str(error), "Smart-Meter-Field": error.field}
        await self.js.publish(DEAD_LETTER_SUBJECT, data, headers=headers)
        self.stats.dead_letters += 1
