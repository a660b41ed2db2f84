"""Future timestamps: a reading dated further ahead of its arrival than a clock can be.

The platform received the reading at ``received_ms`` (the JetStream message's stored
timestamp, the same on every redelivery, so recovery replays this rule exactly). A
reading dated more than ``max_ahead_ms`` after that comes from a broken clock: it fails
(rejected by default, to the late-events path with its payload and lateness ``FUTURE``),
and it never moves a watermark nor starts a timer (:meth:`suspects_time`), so one meter
set to 2099 can neither make another meter's readings late nor make the app attribute
energy or report gaps across 75 years. A reading whose receipt time is unknown is not
judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Rule
from streaming_app.rules.events import LateEvent, Lateness


@dataclass(slots=True)
class FutureState:
    """Stateless: the bound is against the receipt time of each reading."""


class FutureTimestampRule(Rule[FutureState]):
    """Event time more than ``max_ahead_ms`` after the reading was received."""

    kind: ClassVar[str] = "future_timestamp"
    state_type: ClassVar[type[FutureState]] = FutureState

    action: Action = Field(default=Action.REJECT, description="for readings from the future")
    max_ahead_ms: int = Field(
        default=900_000, ge=0, description="how far a clock may run ahead of the platform's"
    )

    def ahead_ms(self, reading: Reading, received_ms: int | None) -> int | None:
        """How far beyond the bound the reading is dated; ``None`` when within it."""
        if received_ms is None or reading.ts_ms - received_ms <= self.max_ahead_ms:
            return None
        return reading.ts_ms - received_ms

    def suspects_time(self, reading: Reading, received_ms: int | None) -> bool:
        return self.ahead_ms(reading, received_ms) is not None

    def evaluate(self, reading: Reading, state: FutureState, context: Context) -> list[Finding]:
        ahead = self.ahead_ms(reading, context.received_ms)
        if ahead is None or context.received_ms is None:
            return []
        received_ms = context.received_ms
        event = LateEvent(reading.meter_id, reading.ts_ms, received_ms, Lateness.FUTURE, -ahead)
        return [self.fail("future_timestamp", event)]
