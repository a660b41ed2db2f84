"""Publish readings to JetStream: partitioned by meter, batched, deduplicated, bounded.

Readings are grouped by partition subject (so per-meter order is kept: one meter is
always in one partition, and a partition's messages are sent in order), cut into
batches of ``batch_size``, and published with a ``Nats-Msg-Id`` derived from the
batch's natural keys. At most ``max_in_flight`` publishes are queued, and at most one
per subject (partition) waits for its ack: the next message of a partition is sent only
once the previous one is stored, so a retry can never put a meter's readings out of
order. A publish that fails for a passing reason (ack timeout, no responders while a
cluster node is lost, JetStream 503 or 10158 while a stream elects its leader: see
:mod:`smart_meter.nats_errors`) is retried with the same id, so JetStream stores it once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from smart_meter.codec import encode_batch, encode_reading
from smart_meter.nats_errors import is_transient
from smart_meter.reading import Reading
from smart_meter.subjects import PLATFORM_READINGS, ReadingsDestination, dedup_id


@dataclass
class PublishStats:
    """What a publisher did: ``readings`` stored, ``duplicates`` readings JetStream already had.

    ``raw`` counts raw messages (see :meth:`ReadingPublisher.publish_raw`) stored, and
    ``raw_duplicates`` those JetStream refused as already stored.
    """

    readings: int = 0
    messages: int = 0
    duplicates: int = 0
    retries: int = 0
    raw: int = 0
    raw_duplicates: int = 0
    per_subject: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class ReadingPublisher:
    """Publishes readings to the readings stream (``destination``) with backpressure and retries."""

    def __init__(
        self,
        nc: NatsClient,
        partitions: int,
        batch_size: int = 100,
        max_in_flight: int = 256,
        ack_timeout_s: float = 5.0,
        max_attempts: int = 20,
        destination: ReadingsDestination = PLATFORM_READINGS,
    ) -> None:
        self.js = nc.jetstream(timeout=ack_timeout_s)
        self.partitions = partitions
        self.destination = destination
        self.batch_size = batch_size
        self.ack_timeout_s = ack_timeout_s
        self.max_attempts = max_attempts
        self._slots = asyncio.Semaphore(max_in_flight)
        self._pending: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # per subject: the publish to wait for
        self.stats = PublishStats()

    async def publish(self, readings: Iterable[Reading]) -> None:
        """Queue every reading for publishing; returns once all are handed to tasks."""
        by_subject: dict[str, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_subject[
                self.destination.subject_for_meter(reading.meter_id, self.partitions)
            ].append(reading)
        for subject, group in by_subject.items():
            for start in range(0, len(group), self.batch_size):
                await self._submit(subject, group[start : start + self.batch_size])

    async def publish_raw(self, subject: str, payload: bytes, msg_id: str | None = None) -> None:
        """Queue one message of arbitrary bytes (e.g. a malformed reading) on ``subject``.

        Bounded and retried like readings. ``msg_id`` defaults to a digest of the payload,
        so a retried publish is stored once.
        """
        await self._slots.acquire()
        message_id = msg_id or f"raw-{hashlib.blake2b(payload, digest_size=16).hexdigest()}"
        self._start(subject, payload, message_id, 1, raw=True)

    async def flush(self) -> None:
        """Wait until every queued publish is acknowledged; re-raise the first failure."""
        while self._pending:
            done = list(self._pending)
            await asyncio.gather(*done)

    async def _submit(self, subject: str, batch: Sequence[Reading]) -> None:
        await self._slots.acquire()
        payload = encode_reading(batch[0]) if len(batch) == 1 else encode_batch(batch)
        msg_id = dedup_id(reading.key for reading in batch)
        self._start(subject, payload, msg_id, len(batch))

    def _start(
        self, subject: str, payload: bytes, msg_id: str, count: int, raw: bool = False
    ) -> None:
        """A task that publishes once the subject's previous publish is done (in order)."""
        previous = self._last.get(subject)
        task = asyncio.create_task(
            self._publish_with_retry(subject, payload, msg_id, count, raw, previous)
        )
        self._last[subject] = task
        self._pending.add(task)
        task.add_done_callback(lambda done: self._finished(subject, done))

    def _finished(self, subject: str, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if self._last.get(subject) is task:
            del self._last[subject]

    async def _publish_with_retry(
        self,
        subject: str,
        payload: bytes,
        msg_id: str,
        count: int,
        raw: bool = False,
        previous: asyncio.Task[None] | None = None,
    ) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])  # its failure is raised by flush, not here
            for attempt in range(1, self.max_attempts + 1):
                try:
                    ack = await self.js.publish(
                        subject,
                        payload,
                        stream=self.destination.stream,
                        headers={"Nats-Msg-Id": msg_id},
                    )
                except (NatsError, TimeoutError) as error:
                    if not is_transient(error) or attempt == self.max_attempts:
                        raise
                    self.stats.retries += 1
                    await asyncio.sleep(min(0.05 * 2**attempt, 2.0))  # back-off between retries
                    continue
                self.stats.messages += 1
                if raw:
                    self._count_raw(bool(ack.duplicate))
                    return
                if ack.duplicate:
                    self.stats.duplicates += count
                    return
                self.stats.readings += count
                self.stats.per_subject[subject] += count
                return
        finally:
            self._slots.release()

    def _count_raw(self, duplicate: bool) -> None:
        if duplicate:
            self.stats.raw_duplicates += 1
        else:
            self.stats.raw += 1
