"""Supply voltage against EN 50160: nominal 230 V ± 10 % (207–253 V).

Every reading with a phase outside the band fails (``under_voltage``/``over_voltage``).
Consecutive out-of-band readings (in event order) form one episode, from the first to
the last such reading; it is ``sustained`` once it has lasted ``sustained_ms``, else
``transient``. One ``VoltageEvent`` per episode: raised when the episode ends (the next
in-band reading) and, for a sustained one, also when it becomes sustained (``ongoing``);
both carry the same ``(meter_id, start_ms)`` key, the final one superseding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Context, Finding, Rule
from streaming_app.rules.events import VoltageDirection, VoltageDuration, VoltageEvent


@dataclass(slots=True)
class VoltageState:
    """The open episode, if any (``readings`` > 0)."""

    start_ms: int = 0
    end_ms: int = 0
    min_v: float = 0.0
    max_v: float = 0.0
    readings: int = 0
    reported_sustained: bool = False


class VoltageRule(Rule[VoltageState]):
    """Voltage outside nominal ± band; transient vs sustained; one event per episode."""

    kind: ClassVar[str] = "voltage"
    state_type: ClassVar[type[VoltageState]] = VoltageState

    nominal_v: float = Field(default=230.0, gt=0, description="nominal supply voltage")
    band_pct: float = Field(default=10.0, gt=0, lt=100, description="allowed deviation, %")
    sustained_ms: int = Field(default=60_000, ge=0, description="episode length to be sustained")

    @property
    def low_v(self) -> float:
        return self.nominal_v - self.nominal_v * self.band_pct / 100

    @property
    def high_v(self) -> float:
        return self.nominal_v + self.nominal_v * self.band_pct / 100

    def evaluate(self, reading: Reading, state: VoltageState, context: Context) -> list[Finding]:
        if reading.voltage_v is None:
            return []
        low, high = min(reading.voltage_v), max(reading.voltage_v)
        under, over = low < self.low_v, high > self.high_v
        findings = [
            self.fail(name)
            for name, out in (("under_voltage", under), ("over_voltage", over))
            if out
        ]
        ts_ms, interval = reading.ts_ms, context.interval
        late = interval is not None and not interval.newer
        if late or (findings and self.rejects):
            return findings
        if under or over:
            event = self._extend(reading.meter_id, state, ts_ms, low, high)
        elif state.readings:
            event = self._event(reading.meter_id, state, ongoing=False)
            state.readings, state.reported_sustained = 0, False
        else:
            event = None
        if event is not None:
            findings.append(self.notice("voltage_episode", event))
        return findings

    def _extend(
        self, meter_id: str, state: VoltageState, ts_ms: int, low: float, high: float
    ) -> VoltageEvent | None:
        if state.readings == 0:
            state.start_ms, state.min_v, state.max_v = ts_ms, low, high
        state.end_ms, state.readings = ts_ms, state.readings + 1
        state.min_v, state.max_v = min(state.min_v, low), max(state.max_v, high)
        if state.reported_sustained or state.end_ms - state.start_ms < self.sustained_ms:
            return None
        state.reported_sustained = True
        return self._event(meter_id, state, ongoing=True)

    def _event(self, meter_id: str, state: VoltageState, *, ongoing: bool) -> VoltageEvent:
        under, over = state.min_v < self.low_v, state.max_v > self.high_v
        direction = _direction(under=under, over=over)
        sustained = state.end_ms - state.start_ms >= self.sustained_ms
        return VoltageEvent(
            meter_id,
            state.start_ms,
            state.end_ms,
            state.min_v,
            state.max_v,
            direction,
            VoltageDuration.SUSTAINED if sustained else VoltageDuration.TRANSIENT,
            state.readings,
            ongoing,
        )


def _direction(*, under: bool, over: bool) -> VoltageDirection:
    if under and over:
        return VoltageDirection.BOTH
    return VoltageDirection.UNDER if under else VoltageDirection.OVER
