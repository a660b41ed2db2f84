"""Duplicates: the same (meter, event time) again, with an identical or a different payload.

An identical payload is a redelivery: a notice, and later rules do not see it again. A
different payload conflicts with what was recorded first and fails with ``action``.
Either way later rules are skipped, so state is never updated twice for one key. The
memory of keys per meter is bounded (``recent_keys``); a duplicate older than that goes
undetected here and is absorbed by the idempotent storage key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Rule
from streaming_app.rules.events import DuplicateEvent


@dataclass(slots=True)
class DuplicateState:
    """Recent event times of the meter and a fingerprint of each payload, oldest first."""

    recent: dict[int, str] = field(default_factory=dict)


def fingerprint(reading: Reading) -> str:
    """A stable digest of everything in the reading besides its key."""
    grid = reading.grid
    grid_key = None if grid is None else (grid.line_id, grid.transformer_id, grid.usage_point_id)
    payload = (
        reading.seq,
        reading.import_wh,
        reading.voltage_v,
        reading.current_a,
        reading.temperature_c,
        grid_key,
    )
    return hashlib.blake2b(repr(payload).encode(), digest_size=8).hexdigest()


class DuplicateRule(Rule[DuplicateState]):
    """Same meter and timestamp again: identical (notice) or conflicting (fails)."""

    kind: ClassVar[str] = "duplicate"
    state_type: ClassVar[type[DuplicateState]] = DuplicateState

    action: Action = Field(default=Action.REJECT, description="for conflicting duplicates")
    recent_keys: int = Field(default=64, ge=1, description="event times remembered per meter")

    def evaluate(self, reading: Reading, state: DuplicateState, context: Context) -> list[Finding]:
        ts_ms = reading.ts_ms
        digest = fingerprint(reading)
        seen = state.recent.get(ts_ms)
        if seen is None:
            state.recent[ts_ms] = digest
            if len(state.recent) > self.recent_keys:
                del state.recent[next(iter(state.recent))]
            return []
        if seen == digest:
            event = DuplicateEvent(reading.meter_id, ts_ms, identical=True)
            return [self.notice("identical_duplicate", event, halt=True)]
        event = DuplicateEvent(reading.meter_id, ts_ms, identical=False)
        return [self.fail("conflicting_duplicate", event, halt=True)]
