"""Register checks: the cumulative import register must rise, and not too fast.

Against the meter's reference reading (the newest one no rule rejected: the engine's
:class:`~streaming_app.rules.base.Interval`), a lower register is:

- a ``rollover`` when wrapping at ``rollover_at_wh`` explains it within the physical
  limit (a notice: the consumption is known, carried as ``energy_wh``);
- a ``reset`` when the new value is below ``reset_below_wh`` (meter replaced or reset);
- otherwise a ``decrease`` (reverse flow, tamper, a bad read).

A rise above ``max_kw`` sustained for the elapsed time is ``over_limit``. A late reading
(older than the newest) fails as a ``decrease`` if its register is above the newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import Field

from smart_meter.energy.register import MAX_KW, RESET_BELOW_WH, ROLLOVER_AT_WH
from smart_meter.reading import Reading
from streaming_app.rules.base import Context, Finding, Interval, Rule
from streaming_app.rules.events import RegisterEvent, RegisterKind

MS_PER_HOUR = 3_600_000


@dataclass(slots=True)
class RegisterState:
    """Stateless: the reference reading is the engine's."""


class RegisterRule(Rule[RegisterState]):
    """Decrease, rollover, reset, and consumption above the connection's limit."""

    kind: ClassVar[str] = "register"
    state_type: ClassVar[type[RegisterState]] = RegisterState

    rollover_at_wh: float = Field(
        default=ROLLOVER_AT_WH, gt=0, description="register capacity; 5 kWh digits wrap at 1e8 Wh"
    )
    reset_below_wh: float = Field(
        default=RESET_BELOW_WH, ge=0, description="a fall to below is a reset"
    )
    max_kw: float = Field(default=MAX_KW, gt=0, description="physical limit of the connection")

    def evaluate(self, reading: Reading, state: RegisterState, context: Context) -> list[Finding]:
        interval = context.interval
        if interval is None:
            return []
        if not interval.newer:
            if interval.ts_ms < interval.previous_ts_ms and interval.energy_wh > 0:
                elapsed, kind = interval.previous_ts_ms - interval.ts_ms, RegisterKind.DECREASE
                event = self._event(reading, kind, interval.wh, interval.previous_wh, elapsed)
                return [self.fail("decrease", event)]
            return []
        finding = self._judge(reading, interval)
        return [] if finding is None else [finding]

    def _judge(self, reading: Reading, interval: Interval) -> Finding | None:
        previous, current, elapsed = interval.previous_wh, interval.wh, interval.duration_ms
        limit_wh = self.max_kw * 1000 * elapsed / MS_PER_HOUR
        if current >= previous:
            if current - previous <= limit_wh:
                return None
            over = self._event(reading, RegisterKind.OVER_LIMIT, previous, current, elapsed)
            return self.fail("over_limit", over)
        wrapped_wh = self.rollover_at_wh - previous + current
        if 0 <= wrapped_wh <= limit_wh:
            event = self._event(reading, RegisterKind.ROLLOVER, previous, current, elapsed)
            return self.notice("rollover", event)
        kind = RegisterKind.RESET if current < self.reset_below_wh else RegisterKind.DECREASE
        return self.fail(str(kind), self._event(reading, kind, previous, current, elapsed))

    def _event(
        self, reading: Reading, kind: RegisterKind, previous: float, current: float, elapsed: int
    ) -> RegisterEvent:
        energy = (
            self.rollover_at_wh - previous + current
            if kind is RegisterKind.ROLLOVER
            else current - previous
        )
        return RegisterEvent(
            reading.meter_id, reading.ts_ms, kind, previous, current, energy, elapsed
        )
