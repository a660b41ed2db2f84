"""Lateness: event time against the bounded-out-of-orderness watermark.

The engine keeps the watermark (newest event time seen, minus the out-of-orderness
bound) and passes it in the context, as it stood *before* this reading. A reading at or
after it is ON_TIME; behind it by at most ``allowed_lateness_ms`` it is LATE (processed
and marked, not a failure); further behind it is TOO_LATE and fails with ``action``
(by default rejected, to be routed to the late-events subject).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Rule
from streaming_app.rules.events import LateEvent, Lateness


@dataclass(slots=True)
class LatenessState:
    """Stateless: the watermark is the engine's."""


def classify(ts_ms: int, watermark_ms: int | None, allowed_lateness_ms: int) -> Lateness:
    """ON_TIME, LATE or TOO_LATE for an event time against a watermark."""
    if watermark_ms is None or ts_ms >= watermark_ms:
        return Lateness.ON_TIME
    if ts_ms >= watermark_ms - allowed_lateness_ms:
        return Lateness.LATE
    return Lateness.TOO_LATE


class LatenessRule(Rule[LatenessState]):
    """Classify each reading against the watermark; TOO_LATE fails the reading."""

    kind: ClassVar[str] = "lateness"
    state_type: ClassVar[type[LatenessState]] = LatenessState

    action: Action = Field(default=Action.REJECT, description="for TOO_LATE readings")
    allowed_lateness_ms: int = Field(
        default=3_600_000, ge=0, description="how far behind the watermark is still LATE"
    )

    def evaluate(self, reading: Reading, state: LatenessState, context: Context) -> list[Finding]:
        ts_ms, watermark_ms = reading.ts_ms, context.watermark_ms
        lateness = classify(ts_ms, watermark_ms, self.allowed_lateness_ms)
        if lateness is Lateness.ON_TIME or watermark_ms is None:
            return []
        event = LateEvent(reading.meter_id, ts_ms, watermark_ms, lateness, watermark_ms - ts_ms)
        if lateness is Lateness.LATE:
            return [self.notice("late", event)]
        return [self.fail("too_late", event)]
