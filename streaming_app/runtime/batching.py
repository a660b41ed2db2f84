"""Turn one fetch of a partition's messages into a :class:`ProcessedBatch` (no I/O).

Each message is decoded (unusable input becomes a :class:`DeadLetter` with the reason),
each reading goes through the partition's validator, and the event-time timers the
watermark has passed fire right after the reading that moved it, so where a batch ends
changes nothing. Nothing is validated twice: a message at or below the newest stream
sequence already validated is a redelivery and is skipped whole (after a restore, that
is the checkpoint), and so are readings of meters whose saved state is ahead of it.
The batch carries running totals apart from its events: the aggregators' figures (the
days its readings ended, and a meter's day so far at most once per slot of event time,
see :mod:`streaming_app.totals.aggregator`). The result also carries what the state
store must save: the changed meters' states, the meters evicted as idle, and the new
checkpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from smart_meter.codec import ReadingError, ReadingErrorKind, decode_message, encode_reading
from smart_meter.reading import Reading
from smart_meter.subjects import partition_of
from streaming_app.processed import CheckedReading, DeadLetter, ProcessedBatch
from streaming_app.rules.engine import Validator
from streaming_app.rules.events import Event
from streaming_app.runtime.state_store import Checkpoint, PartitionState, Recovery, SavedMeter
from streaming_app.totals import DayTotals


@dataclass(frozen=True)
class Incoming:
    """The parts of a JetStream message the batch needs."""

    data: bytes
    subject: str
    stream_seq: int
    published_ms: int | None = None


@dataclass(frozen=True)
class Built:
    """A processed batch and the state to save once the sinks have it."""

    batch: ProcessedBatch
    meter_states: dict[str, bytes]
    evicted: tuple[str, ...]
    checkpoint: Checkpoint


@dataclass
class Draft:
    """A batch being built."""

    last_seq: int = 0
    readings: list[CheckedReading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    totals: list[DayTotals] = field(default_factory=list)


LOAD_CHUNK = 1000  # saved meters loaded between two turns of the event loop
# The longest one batch keeps the event loop before letting other partitions, lease
# renewals and sinks run (a turn of the loop per message would cost more than a
# one-reading message's validation).
TURN_BUDGET_S = 0.005


class BatchBuilder:
    """One partition's validator, recovery marks, and the batches built from its messages."""

    def __init__(self, partition: int, partitions: int, validator: Validator) -> None:
        self.partition = partition
        self.partitions = partitions
        self.validator = validator
        self.recovery = Recovery()
        self.processed_seq = 0  # newest stream sequence this builder has validated
        self._pending_events: list[Event] = []

    async def restore(self, saved: PartitionState) -> int:
        """Load a claimed partition's state a chunk at a time (other partitions and lease
        renewals run in between), then resume from its checkpoint; the meters loaded."""
        for start in range(0, len(saved.meters), LOAD_CHUNK):
            self._load(saved.meters[start : start + LOAD_CHUNK])
            await asyncio.sleep(0)
        self._resume(saved)
        return len(saved.meters)

    def _load(self, meters: Iterable[SavedMeter]) -> None:
        for meter in meters:
            self.validator.load_meter_state(meter.state)

    def _resume(self, saved: PartitionState) -> None:
        """Recovery marks from the checkpoint; fire the timers its watermark had passed."""
        self.recovery = saved.recovery()
        self.processed_seq = self.recovery.committed_seq
        watermark_ms = saved.checkpoint.watermark_ms if saved.checkpoint else None
        self._pending_events = self.validator.expire(watermark_ms)

    async def build(
        self, messages: Sequence[Incoming], received_ms: int, evict: bool = False
    ) -> Built:
        """Decode and validate ``messages`` (in stream order) into one batch, letting other
        partitions and lease renewals run every ``TURN_BUDGET_S`` of it."""
        draft = self._start()
        turn_ends = time.monotonic() + TURN_BUDGET_S
        for message in messages:
            self._add(draft, message, received_ms)
            if time.monotonic() >= turn_ends:  # the event loop stays responsive
                await asyncio.sleep(0)
                turn_ends = time.monotonic() + TURN_BUDGET_S
        return self._finish(draft, received_ms, evict)

    def _start(self) -> Draft:
        """An empty batch (with the timer events of a restore, if any are pending)."""
        draft = Draft(events=self._pending_events, last_seq=self.recovery.committed_seq)
        draft.changed.update(event.meter_id for event in self._pending_events)
        self._pending_events = []
        return draft

    def _add(self, draft: Draft, message: Incoming, received_ms: int) -> None:
        """Decode and validate one message into the batch (messages in stream order)."""
        draft.last_seq = max(draft.last_seq, message.stream_seq)
        self._message(message, received_ms, draft)

    def _finish(self, draft: Draft, received_ms: int, evict: bool = False) -> Built:
        """The batch, the changed states, the evicted meters and the new checkpoint."""
        evicted = self._evict() if evict else ()
        return self._built(draft, received_ms, evicted, draft.last_seq)

    def committed(self, built: Built) -> None:
        """The batch is saved: later redeliveries of its messages are skipped."""
        self.recovery.committed(built.checkpoint.last_seq)

    def _built(
        self, draft: Draft, received_ms: int, evicted: tuple[str, ...], last_seq: int
    ) -> Built:
        watermark_ms = self.validator.watermark_ms
        batch = ProcessedBatch(
            partition=self.partition,
            processed_ms=received_ms,
            readings=tuple(draft.readings),
            events=tuple(draft.events),
            dead_letters=tuple(draft.dead_letters),
            watermark_ms=watermark_ms,
            totals=tuple(draft.totals),
        )
        states = {m: s for m in draft.changed if (s := self.validator.meter_state(m)) is not None}
        return Built(batch, states, evicted, Checkpoint(last_seq, watermark_ms))

    def _evict(self) -> tuple[str, ...]:
        watermark_ms = self.validator.watermark_ms
        return () if watermark_ms is None else tuple(self.validator.evict_idle(watermark_ms))

    def _message(self, message: Incoming, received_ms: int, draft: Draft) -> None:
        if message.stream_seq <= self.processed_seq:
            # A redelivery of what was committed, or is still in hand (its ack_wait ran out
            # while the batch was being built): its readings are in the state already.
            return
        self.processed_seq = message.stream_seq
        try:
            decoded = decode_message(message.data)
        except ReadingError as error:
            draft.dead_letters.append(_dead_letter(message, message.data, error))
            return
        for rejected in decoded.rejected:
            data = orjson.dumps(rejected.raw)
            draft.dead_letters.append(_dead_letter(message, data, rejected.error))
        single = len(decoded.readings) == 1 and not decoded.rejected
        for index, reading in enumerate(decoded.readings):
            self._reading(reading, message, received_ms, draft, None if single else index)

    def _reading(
        self,
        reading: Reading,
        message: Incoming,
        received_ms: int,
        draft: Draft,
        index: int | None,
    ) -> None:
        owner = partition_of(reading.meter_id, self.partitions)
        if owner != self.partition:
            reason = f"belongs to partition {owner}, not {self.partition}"
            error = ReadingError("meter_id", reason, kind=ReadingErrorKind.WRONG_PARTITION)
            data = message.data if index is None else encode_reading(reading)
            draft.dead_letters.append(_dead_letter(message, data, error, index))
            return
        if self.recovery.reading_done(reading.meter_id, message.stream_seq):
            # Saved (and written to the sinks) before a crash; the watermark still moves.
            self.validator.advance_past(reading, message.published_ms)
            self._expire(None, draft)
            return
        verdict = self.validator.process(reading, message.published_ms)
        draft.readings.append(CheckedReading(reading, verdict, received_ms, message.published_ms))
        draft.events.extend(verdict.events)
        draft.totals.extend(verdict.figures)
        # Timers fire as soon as the watermark passes them, not where a batch happens to end:
        # the events then depend on the stream's order only, the same after any crash.
        self._expire(None, draft)
        draft.changed.add(reading.meter_id)

    def _expire(self, watermark_ms: int | None, draft: Draft) -> None:
        for event in self.validator.expire(watermark_ms):
            draft.events.append(event)
            draft.changed.add(event.meter_id)


def _dead_letter(
    message: Incoming, data: bytes, error: ReadingError, index: int | None = None
) -> DeadLetter:
    return DeadLetter(
        data=data,
        reason=str(error),
        field=error.field,
        kind=error.kind,
        subject=message.subject,
        stream_seq=message.stream_seq,
        index=error.index if index is None else index,
    )
