"""What one pulled batch of messages turns into: the contract between the worker and the sinks.

The worker decodes and validates a batch of JetStream messages and hands the sinks one
:class:`ProcessedBatch`. Every sink write is idempotent (keyed by natural keys), so a
batch written twice — after a crash between the sinks and the ack — changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from smart_meter.codec import ReadingErrorKind
from smart_meter.reading import Reading
from streaming_app.rules.engine import Status, Verdict
from streaming_app.rules.events import Event
from streaming_app.totals import DayTotals


@dataclass(frozen=True)
class CheckedReading:
    """A reading and the verdict the validator gave it."""

    reading: Reading
    verdict: Verdict
    received_ms: int  # when the app pulled the message (processing time)
    published_ms: int | None = None  # JetStream's timestamp of the message, if known


@dataclass(frozen=True)
class DeadLetter:
    """Input the app refused: the original bytes, why (in words, and as a kind), and where
    it came from."""

    data: bytes
    reason: str
    field: str
    subject: str
    stream_seq: int | None = None
    index: int | None = None  # entry of a batch message, when only that entry was bad
    kind: ReadingErrorKind = dataclasses.field(kw_only=True)


@dataclass(frozen=True)
class ProcessedBatch:
    """One fetch's worth of work, ready for the sinks, then the state store, then the ack."""

    partition: int
    processed_ms: int
    readings: tuple[CheckedReading, ...] = ()
    events: tuple[Event, ...] = ()  # validator findings and timer expiries, in order
    dead_letters: tuple[DeadLetter, ...] = ()
    watermark_ms: int | None = None
    totals: tuple[DayTotals, ...] = ()  # days the batch ended, days so far (when due)
    pending_messages: int | None = None  # left in the partition's consumer after the batch
    sink_retries: int = 0  # the replica's sink retries so far, before this batch

    def rejected_by_key(self) -> dict[tuple[str, int], Reading]:
        """Rejected readings by (meter, event time): the payload kept with a late event."""
        return {
            (checked.reading.meter_id, checked.verdict.ts_ms): checked.reading
            for checked in self.readings
            if checked.verdict.status is Status.REJECTED
        }
