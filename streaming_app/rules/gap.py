"""Gaps: expected intervals with no reading.

Readings are placed on an epoch-aligned grid of ``interval_s``; a reading covers the slot
its event time falls in (up to ``clock_tolerance_ms`` early still counts for the next
slot), so 10:46 on a 30-minute grid covers the 10:30 slot: off-grid (see the irregular
rule), not a gap. An early reading whose own slot is already covered covers the next
one when it is nearer to it: 10:18 after 10:00 is 10:30 read 12 minutes early, so a
reading at 11:00 leaves no gap. Gaps are found three ways:

- a later reading arrives: the slots between it and the previous one are missing (one
  ``Gap`` for the whole run, so consecutive missing intervals are merged) and the reading
  is flagged ``after_gap`` (its register difference spans them);
- the meter goes silent: once the watermark reaches the start of the next expected slot
  plus ``grace_ms``, an open ``Gap`` is raised by :meth:`GapRule.expire`; when the meter
  returns, a final ``Gap`` with the same start supersedes it;
- a late reading lands in a known gap: ``GapClosed`` for the old extent, then a ``Gap``
  for each piece left (the gap shrinks or splits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Rule
from streaming_app.rules.events import Gap, GapClosed, GapSource


@dataclass(slots=True)
class GapState:
    """Newest slot seen, the timer gap already raised, and recent gaps late data may fill."""

    last_slot: int | None = None
    reported_through: int | None = None  # open gap raised for last_slot+1 .. this slot
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (first, last) missing slots


class GapRule(Rule[GapState]):
    """Missing intervals, by later readings and by event-time timer; merged; fillable."""

    kind: ClassVar[str] = "gap"
    state_type: ClassVar[type[GapState]] = GapState
    supported_actions: ClassVar[frozenset[Action]] = frozenset({Action.FLAG})

    interval_s: int = Field(default=1800, gt=0, description="expected reading interval")
    grace_ms: int = Field(default=900_000, ge=0, description="wait after a slot's start")
    clock_tolerance_ms: int = Field(default=5_000, ge=0, description="early readings allowed")
    max_known_gaps: int = Field(default=16, ge=1, description="gaps kept per meter for filling")

    @property
    def interval_ms(self) -> int:
        return self.interval_s * 1000

    def slot(self, ts_ms: int) -> int:
        """The grid slot a reading at ``ts_ms`` covers."""
        return (ts_ms + self.clock_tolerance_ms) // self.interval_ms

    def gap(self, meter_id: str, first: int, last: int, *, open_: bool, by: GapSource) -> Gap:
        start, end = first * self.interval_ms, (last + 1) * self.interval_ms
        return Gap(meter_id, start, end, last - first + 1, open_, by)

    def nearest_slot(self, ts_ms: int) -> int:
        """The slot of the grid point nearest to ``ts_ms`` (the irregular rule's reference)."""
        return (ts_ms + self.interval_ms // 2) // self.interval_ms

    def evaluate(self, reading: Reading, state: GapState, context: Context) -> list[Finding]:
        slot = self.slot(reading.ts_ms)
        if state.last_slot is None:
            state.last_slot = slot
            return []
        nearest = self.nearest_slot(reading.ts_ms)
        if slot <= state.last_slot < nearest:
            slot = nearest  # early for the next slot, its own one already covered
        if slot > state.last_slot:
            return self._advance(reading, state, slot)
        if slot < state.last_slot:
            known = self._gap_index(state, slot)
            if known is None and nearest != slot and self._gap_index(state, nearest) is not None:
                slot = nearest
            return self._fill(reading, state, slot)
        return []

    @staticmethod
    def _gap_index(state: GapState, slot: int) -> int | None:
        return next((i for i, (a, b) in enumerate(state.gaps) if a <= slot <= b), None)

    def _advance(self, reading: Reading, state: GapState, slot: int) -> list[Finding]:
        assert state.last_slot is not None
        meter_id, first, reported = reading.meter_id, state.last_slot + 1, state.reported_through
        findings: list[Finding] = []
        if reported is not None and slot <= reported:
            closed = self.gap(meter_id, first, reported, open_=True, by=GapSource.TIMER)
            findings.append(self._closed(closed, reading.ts_ms))
        if slot > first:
            by = GapSource.READING if reported is None else GapSource.TIMER
            findings.append(
                self.fail("after_gap", self.gap(meter_id, first, slot - 1, open_=False, by=by))
            )
            state.gaps.append((first, slot - 1))
            del state.gaps[: -self.max_known_gaps]
        state.last_slot, state.reported_through = slot, None
        return findings

    def _fill(self, reading: Reading, state: GapState, slot: int) -> list[Finding]:
        index = self._gap_index(state, slot)
        if index is None:
            return []
        first, last = state.gaps[index]
        meter_id = reading.meter_id
        pieces = [(a, b) for a, b in ((first, slot - 1), (slot + 1, last)) if a <= b]
        state.gaps[index : index + 1] = pieces
        old = self.gap(meter_id, first, last, open_=False, by=GapSource.READING)
        findings = [self._closed(old, reading.ts_ms)]
        for a, b in pieces:
            findings.append(
                self.notice("gap_left", self.gap(meter_id, a, b, open_=False, by=GapSource.FILL))
            )
        return findings

    def _closed(self, gap: Gap, filled_at_ms: int) -> Finding:
        closed = GapClosed(
            gap.meter_id, gap.start_ms, gap.end_ms, gap.missing_intervals, filled_at_ms
        )
        return self.notice("gap_filled", closed)

    def expire(self, meter_id: str, state: GapState, watermark_ms: int) -> list[Finding]:
        if state.last_slot is None or state.reported_through is not None:
            return []
        newest_missing = (watermark_ms - self.grace_ms) // self.interval_ms
        if newest_missing <= state.last_slot:
            return []
        state.reported_through = newest_missing
        first = state.last_slot + 1
        gap = self.gap(meter_id, first, newest_missing, open_=True, by=GapSource.TIMER)
        return [self.notice("silent", gap)]

    def deadline_ms(self, state: GapState) -> int | None:
        if state.last_slot is None or state.reported_through is not None:
            return None
        return (state.last_slot + 1) * self.interval_ms + self.grace_ms
