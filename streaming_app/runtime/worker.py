"""One owned partition: load its state, then fetch, validate and commit batch after batch.

The loop pulls one batch, builds a :class:`ProcessedBatch` with the partition's validator
and hands it to the :class:`Committer`; only when that batch is acked is the next one
pulled. A fetch asks for about ``fetch_readings`` readings: that many messages when
meters publish one reading a message, fewer when a head-end batches them (the readings a
message of the last batch tell which), never more than ``fetch_batch`` (the consumer's
``max_ack_pending``); per-batch costs (state saves, metrics, acks) are then shared by
many readings either way, and a batch's memory stays bounded. It ends when asked to
stop (after the batch in hand) or when another replica holds the partition's lease or
has taken its state (without saving or acking anything more: the state store refuses
the stale owner's writes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from smart_meter.nats_errors import is_transient
from streaming_app.runtime.batching import BatchBuilder, Built, Incoming
from streaming_app.runtime.commit import Commit, Committer, Fence
from streaming_app.runtime.consumer import open_consumer
from streaming_app.runtime.fencing import LeaseLostError
from streaming_app.runtime.state_store import PartitionState, StateStore
from streaming_app.settings import AppSettings
from streaming_app.validation import ValidationSettings

log = logging.getLogger(__name__)


class DeliveryGapError(RuntimeError):
    """A delivery of the partition's consumer never arrived (a fetch answer lost with a NATS
    node): going on would commit a checkpoint past messages never processed, so the
    partition is handed back and its next owner resumes at the committed position."""

    def __init__(self, partition: int, expected: int, got: int) -> None:
        self.partition = partition
        super().__init__(f"partition {partition}: consumer delivery {expected} missing (got {got})")


FETCH_RETRY_S = 0.5  # after a fetch that failed for a passing reason (a NATS node lost)
FIRST_READINGS_PER_MESSAGE = 100  # a guess until the first batch tells (a head-end's size)


@dataclass
class Activity:
    """When a message was last seen, and how many, across all partitions of a replica."""

    clock: Callable[[], float] = time.monotonic
    last_message_at: float = field(default_factory=time.monotonic)
    messages: int = 0
    committing: int = 0  # batches in hand (a batch waiting for a sink is not idleness)

    def saw(self, count: int) -> None:
        self.messages += count
        self.last_message_at = self.clock()

    def idle_s(self) -> float:
        """Seconds since the last message, 0 while any batch is still being committed."""
        return 0.0 if self.committing else self.clock() - self.last_message_at


@dataclass(frozen=True)
class WorkerContext:
    """What every partition worker of a replica shares."""

    settings: AppSettings
    validation: ValidationSettings
    partitions: int
    js: JetStreamContext
    store: StateStore
    committer: Committer
    activity: Activity
    wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000


def incoming(message: Msg) -> Incoming:
    """The parts of a JetStream message a batch needs."""
    metadata = message.metadata
    published = metadata.timestamp
    published_ms = int(published.timestamp() * 1000) if published else None
    return Incoming(message.data, message.subject, metadata.sequence.stream, published_ms)


class PartitionWorker:
    """Validates and commits one partition's messages while its lease is held."""

    def __init__(self, context: WorkerContext, partition: int, lease: Fence) -> None:
        self.context = context
        self.partition = partition
        self.lease = lease
        self.stop = asyncio.Event()
        self.builder = BatchBuilder(partition, context.partitions, context.validation.validator())
        self._next_eviction = time.monotonic() + context.settings.evict_interval_s
        self._delivered: int | None = None  # the consumer sequence of the last delivery
        self._readings_per_message = float(FIRST_READINGS_PER_MESSAGE)

    async def run(self) -> None:
        """Restore, then loop until stopped or the partition is another replica's."""
        try:
            subscription = await self._open()
            try:
                await self._loop(subscription)
            finally:
                await subscription.unsubscribe()
        finally:
            self.context.store.forget(self.partition)

    async def _loop(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self.stop.is_set():
            if not self.lease.held():
                raise LeaseLostError(self.partition, "fetching")
            messages = await self._fetch(subscription)
            if messages:
                self._check_contiguous(messages)
                await self._commit(messages)

    def _check_contiguous(self, messages: list[Msg]) -> None:
        """Every delivery (redeliveries too) has the next consumer sequence; a gap means
        messages were delivered and lost on the way, and are still un-acked."""
        for message in messages:
            delivered = message.metadata.sequence.consumer
            if self._delivered is not None and delivered != self._delivered + 1:
                raise DeliveryGapError(self.partition, self._delivered + 1, delivered)
            self._delivered = delivered

    async def _open(self) -> JetStreamContext.PullSubscription:
        """Take the partition's state (fenced), then bind its consumer where it left off."""
        context, partition = self.context, self.partition
        meters = await self._restore(await context.store.take(partition))
        recovery = self.builder.recovery
        log.info(
            "partition %d: %d meters restored, committed seq %d, %d meters ahead of it",
            partition,
            meters,
            recovery.committed_seq,
            len(recovery.ahead),
        )
        if not self.lease.held():  # a slow load must not touch a consumer another owner uses
            raise LeaseLostError(partition, "opening the consumer")
        return await open_consumer(context.js, context.settings, partition, recovery.committed_seq)

    async def _restore(self, saved: PartitionState) -> int:
        """Load the saved meters a chunk at a time, so leases keep being renewed."""
        return await self.builder.restore(saved)

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        settings = self.context.settings
        try:
            return await subscription.fetch(self.fetch_size(), timeout=settings.fetch_timeout_s)
        except (NatsTimeoutError, TimeoutError):
            return []
        except NatsError as error:
            if not is_transient(error):
                raise
            log.warning("partition %d: fetch failed (%r); again", self.partition, error)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), FETCH_RETRY_S)
            return []

    def fetch_size(self) -> int:
        """Messages to ask for: about ``fetch_readings`` readings, at most ``fetch_batch``."""
        settings = self.context.settings
        wanted = round(settings.fetch_readings / self._readings_per_message)
        return max(1, min(settings.fetch_batch, wanted))

    def _learn(self, messages: int, built: Built) -> None:
        """Readings a message in this batch (at least one: skipped redeliveries read as one)."""
        batch = built.batch
        readings = len(batch.readings) + len(batch.dead_letters)
        self._readings_per_message = max(1.0, readings / messages)

    async def _build(self, messages: list[Msg], now_ms: int, evict: bool) -> Built:
        """Validate the batch, letting other partitions and lease renewals run in between."""
        return await self.builder.build([incoming(m) for m in messages], now_ms, evict)

    async def _commit(self, messages: list[Msg]) -> None:
        """Build the batch and commit it; the replica is busy (not idle) meanwhile."""
        activity = self.context.activity
        activity.committing += 1
        try:
            async with self.context.committer.keeping_alive(messages):
                built = await self._build(messages, self.context.wall_clock_ms(), self._evict_now())
            self._learn(len(messages), built)
            batch = dataclasses.replace(
                built.batch,
                pending_messages=messages[-1].metadata.num_pending,
                sink_retries=self.context.committer.stats.sink_retries,
            )
            work = Commit(batch, messages, built.meter_states, built.evicted, built.checkpoint)
            await self.context.committer.commit(work, self.lease, self.stop)
        finally:
            activity.committing -= 1
            activity.saw(len(messages))
        self.builder.committed(built)

    def _evict_now(self) -> bool:
        if time.monotonic() < self._next_eviction:
            return False
        self._next_eviction = time.monotonic() + self.context.settings.evict_interval_s
        return True
