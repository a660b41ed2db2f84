"""Mirror the readings stream into Kafka: at-least-once, per-meter order kept.

How order survives crashes and redeliveries (one bridge process per durable):

1. Batches are atomic and sequential. The bridge fetches up to ``batch`` messages,
   produces every reading of them to Kafka, waits until Kafka confirmed all of them,
   acks the batch with a single ``AckAll`` on its last message, and only then fetches
   again. So the un-acked messages are always exactly the current batch: a contiguous
   run of the stream right after the consumer's ack floor.
2. ``max_ack_pending = batch`` makes the server bound it too: at most one batch is
   ever outstanding beyond the ack floor, so a crash leaves at most one batch to
   replay (the bound on duplicates), and a stray pull (a lingering request, a second
   process by mistake) cannot run more than a batch ahead of the floor. Two processes
   on one durable would still interleave batches: run one per durable, and scale out
   with one durable per set of partition subjects (``filter_subjects``).
3. At start the durable is reset to its ack floor (``$JS.API.CONSUMER.RESET``,
   nats-server 2.14+). Without it, a restarted bridge would be given newer messages
   while the crashed run's batch waits out its ``ack_wait``, and those newer readings
   would reach Kafka before the batch's redelivery: a meter's readings out of order.
   With it, the crashed batch is replayed first, whole, in stream order. For the same
   reason a failed ack or a Kafka delivery error ends the process instead of going
   on: the restart replays from the floor.
4. While Kafka is slow the batch's messages get ``+WPI`` (in progress) every third of
   ``ack_wait``, so JetStream does not redeliver a batch that is still being written.
5. Within a Kafka partition the idempotent producer keeps produce order; one meter is
   always in one partition (NATS and Kafka alike).

What Kafka sees per meter is therefore its readings in order, possibly followed by a
replay of a suffix of them (the batch in flight at a crash) and then the rest: the
duplicates at-least-once allows, at most one batch per restart. Consumers dedup on the
``dedup-id`` header (the natural key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError

from kafka_bridge.dead_letter import DeadLetters
from kafka_bridge.producer import ReadingProducer
from kafka_bridge.records import KafkaRecord, NatsOrigin, kafka_record
from kafka_bridge.settings import BridgeSettings
from kafka_bridge.shutdown import Shutdown
from smart_meter.codec import ReadingError, decode_message
from smart_meter.subjects import READINGS_STREAM

_log = logging.getLogger(__name__)
SOURCE = "kafka-bridge/nats-to-kafka"
ACK_TIMEOUT_S = 5.0  # a slow ack must not end the bridge; a lost one does (see 3.)


class DurableLayoutError(ValueError):
    """An existing durable cannot keep the bridge's ordering guarantee."""


@dataclass
class NatsToKafkaCounters:
    """What the bridge did; ``replayed`` messages were delivered before a restart too."""

    batches: int = 0
    messages: int = 0
    readings: int = 0
    dead_letters: int = 0
    replayed: int = 0
    keepalives: int = 0


def consumer_config(settings: BridgeSettings) -> ConsumerConfig:
    """The durable pull consumer: ``AckAll``, one batch outstanding, never give up."""
    start = DeliverPolicy.BY_START_SEQUENCE if settings.start_seq else DeliverPolicy.ALL
    return ConsumerConfig(
        name=settings.durable,
        durable_name=settings.durable,
        description="NATS→Kafka bridge",
        deliver_policy=start,
        opt_start_seq=settings.start_seq,
        ack_policy=AckPolicy.ALL,
        ack_wait=settings.ack_wait_s,
        max_ack_pending=settings.batch,
        max_deliver=-1,
        filter_subjects=list(settings.filter_subjects) or None,
    )


async def ensure_durable(js: JetStreamContext, settings: BridgeSettings) -> ConsumerInfo:
    """Create the durable, or bring an existing one to this run's batch and ack wait."""
    try:
        info: ConsumerInfo = await js.consumer_info(READINGS_STREAM, settings.durable)
    except NotFoundError:
        created: ConsumerInfo = await js.add_consumer(READINGS_STREAM, consumer_config(settings))
        return created
    if info.config.ack_policy != AckPolicy.ALL:
        raise DurableLayoutError(f"durable {settings.durable!r} is not an AckAll consumer")
    wanted = (settings.batch, settings.ack_wait_s)
    if (info.config.max_ack_pending, info.config.ack_wait) != wanted:
        config = info.config.evolve(max_ack_pending=settings.batch, ack_wait=settings.ack_wait_s)
        info = await js.add_consumer(READINGS_STREAM, config)
    return info


async def rewind_to_ack_floor(js: JetStreamContext, durable: str) -> tuple[int, int]:
    """Reset the durable so every un-acked message is delivered again, first and in order.

    Returns (ack floor, last stream seq delivered before the reset).
    """
    info = await js.consumer_info(READINGS_STREAM, durable)
    delivered = info.delivered.stream_seq if info.delivered else 0
    reset = await js.reset_consumer(READINGS_STREAM, durable)
    return reset.reset_seq - 1, delivered


class NatsToKafka:
    """The NATS→Kafka direction: fetch a batch, produce, confirm, ack, repeat."""

    def __init__(
        self,
        nc: NatsClient,
        producer: ReadingProducer,
        settings: BridgeSettings,
        partitions: int,
    ) -> None:
        self.js = nc.jetstream()
        self.producer = producer
        self.settings = settings
        self.partitions = partitions
        self.dead_letters = DeadLetters(self.js, SOURCE)
        self.counters = NatsToKafkaCounters()
        self._replay_until = 0

    async def run(self, shutdown: Shutdown) -> NatsToKafkaCounters:
        """Mirror until a stop is requested; the batch in flight is finished or left un-acked."""
        await ensure_durable(self.js, self.settings)
        floor, self._replay_until = await rewind_to_ack_floor(self.js, self.settings.durable)
        subscription = await self.js.pull_subscribe_bind(
            self.settings.durable, stream=READINGS_STREAM
        )
        _log.info(
            "nats-to-kafka ready: durable=%s topic=%s resuming after stream seq %d "
            "(replaying up to %d)",
            self.settings.durable, self.producer.topic, floor, self._replay_until,
        )  # fmt: skip
        try:
            while not shutdown.requested:
                try:
                    messages = await subscription.fetch(
                        self.settings.batch, timeout=self.settings.fetch_timeout_s
                    )
                except TimeoutError:  # nats' and asyncio's: nothing new within the fetch timeout
                    continue
                if not await self.handle(messages, shutdown):
                    break
        finally:
            await subscription.unsubscribe()
        return self.counters

    async def handle(self, messages: list[Msg], shutdown: Shutdown) -> bool:
        """Produce one batch, wait for Kafka, ack it; False if it was left un-acked."""
        records: list[KafkaRecord] = []
        for msg in messages:
            records.extend(await self._records_of(msg))
        tracker = self.producer.send(records)
        every_s = self.settings.ack_wait_s / 3

        async def keepalive() -> None:
            await self._in_progress(messages)

        if not await self.producer.confirm(tracker, keepalive, every_s, shutdown.grace_over):
            _log.warning("stopping with %d messages un-acked (redelivered later)", len(messages))
            return False
        await messages[-1].ack_sync(timeout=ACK_TIMEOUT_S)  # AckAll: the whole batch, one ack
        self._count(messages, len(records))
        return True

    async def _records_of(self, msg: Msg) -> list[KafkaRecord]:
        origin = NatsOrigin(msg.subject, msg.metadata.sequence.stream)
        try:
            decoded = decode_message(msg.data)
        except ReadingError as error:
            await self.dead_letters.send(msg.data, error, origin.label())
            return []
        await self.dead_letters.send_rejected(decoded, origin.label())
        return [kafka_record(reading, self.partitions, origin) for reading in decoded.readings]

    async def _in_progress(self, messages: list[Msg]) -> None:
        for msg in messages:
            await msg.in_progress()
        self.counters.keepalives += 1

    def _count(self, messages: list[Msg], readings: int) -> None:
        counters = self.counters
        counters.batches += 1
        counters.messages += len(messages)
        counters.readings += readings
        counters.dead_letters = self.dead_letters.count
        counters.replayed += sum(
            msg.metadata.sequence.stream <= self._replay_until for msg in messages
        )
