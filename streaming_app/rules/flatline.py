"""Flat lines and zero runs: the register stops, or advances by the same amount, again and again.

Interval energy is the register difference between a reading and its meter's reference
reading (the engine's :class:`~streaming_app.rules.base.Interval`; late readings are
skipped). Each interval has a kind:

- ``stuck``: no energy although the meter measures current above ``load_current_a`` (a
  register that stopped counting while load is present);
- ``zero``: no energy and no load (or no current measured): an empty or cut-off supply;
- ``flat``: energy, within ``tolerance_wh`` of the run's first (a meter repeating itself).

A run of one kind and one energy fails once it has ``min_flat_intervals`` (``stuck``,
``flat``: ``flat_line``) or ``min_zero_intervals`` (``zero``: ``zero_run``) intervals and
lasts ``min_duration_ms``; every reading of the run from then on fails, and the run is
reported once, as one ``FlatLine`` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Context, Finding, Rule
from streaming_app.rules.events import FlatLine, FlatLineKind


@dataclass(slots=True)
class FlatLineState:
    """The current run of equal interval energies."""

    run_kind: str = ""
    run_energy_wh: float = 0.0
    run_start_ms: int = 0
    run_intervals: int = 0
    reported: bool = False


class FlatLineRule(Rule[FlatLineState]):
    """N intervals in a row with a stuck register, identical energy, or zero energy."""

    kind: ClassVar[str] = "flatline"
    state_type: ClassVar[type[FlatLineState]] = FlatLineState

    min_flat_intervals: int = Field(default=4, ge=2, description="N for stuck and flat runs")
    min_zero_intervals: int = Field(default=12, ge=2, description="N for zero runs (no load)")
    min_duration_ms: int = Field(default=0, ge=0, description="and a run lasts at least this")
    tolerance_wh: float = Field(default=0.0, ge=0, description="energies this close are equal")
    load_current_a: float = Field(default=0.1, ge=0, description="current that means load")

    def interval_kind(self, energy_wh: float, reading: Reading) -> FlatLineKind:
        """``stuck``, ``zero`` or ``flat`` for an interval ending with ``reading``."""
        if abs(energy_wh) > self.tolerance_wh:
            return FlatLineKind.FLAT
        loaded = reading.current_a is not None and max(reading.current_a) > self.load_current_a
        return FlatLineKind.STUCK if loaded else FlatLineKind.ZERO

    def evaluate(self, reading: Reading, state: FlatLineState, context: Context) -> list[Finding]:
        interval = context.interval
        if interval is not None and not interval.newer:
            return []
        if interval is None or interval.energy_wh < 0:
            state.run_intervals = 0
            return []
        ts_ms, previous_ts, energy = reading.ts_ms, interval.previous_ts_ms, interval.energy_wh
        kind = self.interval_kind(energy, reading)
        same = kind == state.run_kind and abs(energy - state.run_energy_wh) <= self.tolerance_wh
        run = (state.run_energy_wh, state.run_start_ms, state.run_intervals + 1, state.reported)
        if not (state.run_intervals and same):
            run = (energy, previous_ts, 1, False)
        run_energy, run_start, run_intervals, reported = run
        zero = kind is FlatLineKind.ZERO
        needed = self.min_zero_intervals if zero else self.min_flat_intervals
        findings = []
        if run_intervals >= needed and ts_ms - run_start >= self.min_duration_ms:
            event = None
            if not reported:
                event = FlatLine(
                    reading.meter_id, kind, run_start, ts_ms, run_intervals, run_energy
                )
            findings.append(self.fail("zero_run" if zero else "flat_line", event))
            if self.rejects:
                return findings
            reported = True
        state.run_kind = kind
        state.run_energy_wh, state.run_start_ms = run_energy, run_start
        state.run_intervals, state.reported = run_intervals, reported
        return findings
