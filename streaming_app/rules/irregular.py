"""Irregular sampling: readings off the expected grid, or a meter changing its cadence.

Neither is a gap. A reading more than ``clock_tolerance_ms`` away from the nearest point
of the ``interval_s`` grid is ``off_grid`` (``offset_ms`` is signed: negative when early);
its clock is suspect, so its event time does not advance the watermark (one meter with a
clock minutes fast must not make the whole fleet's readings late).
When the last ``confirm_intervals`` intervals between a meter's readings agree with each
other but not with the configured interval, the meter has a new cadence: one
``interval_change`` per change, not one per reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Context, Finding, Rule
from streaming_app.rules.events import Irregular, IrregularKind


@dataclass(slots=True)
class IrregularState:
    """The latest intervals between readings, and the cadence reported."""

    recent_intervals_ms: list[int] = field(default_factory=list)
    reported_interval_ms: int | None = None


class IrregularRule(Rule[IrregularState]):
    """Off-grid timestamps and interval changes."""

    kind: ClassVar[str] = "irregular"
    state_type: ClassVar[type[IrregularState]] = IrregularState

    interval_s: int = Field(default=1800, gt=0, description="expected reading interval")
    clock_tolerance_ms: int = Field(default=5_000, ge=0, description="allowed distance from grid")
    confirm_intervals: int = Field(default=3, ge=2, description="equal intervals to confirm")

    def offset_ms(self, ts_ms: int) -> int:
        """Signed distance to the nearest point of the grid (negative: early)."""
        interval_ms = self.interval_s * 1000
        return (ts_ms + interval_ms // 2) % interval_ms - interval_ms // 2

    def suspects_time(self, reading: Reading, received_ms: int | None) -> bool:
        """A reading off the grid: its meter's clock is off."""
        return abs(self.offset_ms(reading.ts_ms)) > self.clock_tolerance_ms

    def evaluate(self, reading: Reading, state: IrregularState, context: Context) -> list[Finding]:
        ts_ms, findings = reading.ts_ms, []
        offset = self.offset_ms(ts_ms)
        if abs(offset) > self.clock_tolerance_ms:
            event = Irregular(reading.meter_id, ts_ms, IrregularKind.OFF_GRID, offset_ms=offset)
            findings.append(self.fail("off_grid", event))
            if self.rejects:
                return findings
        interval = context.interval
        if interval is None or not interval.newer:
            return findings
        recent = [*state.recent_intervals_ms, interval.duration_ms][-self.confirm_intervals :]
        reported, changed_to = self._cadence(recent, state.reported_interval_ms)
        if changed_to is not None:
            kind = IrregularKind.INTERVAL_CHANGE
            event = Irregular(reading.meter_id, ts_ms, kind, interval_ms=changed_to)
            findings.append(self.fail("interval_change", event))
            if self.rejects:
                return findings
        state.recent_intervals_ms = recent
        state.reported_interval_ms = reported
        return findings

    def _cadence(self, recent: list[int], reported: int | None) -> tuple[int | None, int | None]:
        """The cadence to remember as reported, and a new cadence to report (or ``None``)."""
        tolerance, configured = 2 * self.clock_tolerance_ms, self.interval_s * 1000
        if len(recent) < self.confirm_intervals or max(recent) - min(recent) > tolerance:
            return reported, None
        observed = sorted(recent)[len(recent) // 2]
        if abs(observed - (reported or configured)) <= tolerance:
            return reported, None
        if abs(observed - configured) <= tolerance:
            return None, None  # back to the configured cadence
        return observed, observed
