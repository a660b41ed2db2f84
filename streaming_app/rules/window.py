"""Window threshold: a meter's energy in event-time sliding windows above a threshold.

Windows are ``window_ms`` long and start every ``slide_ms`` (epoch-aligned). The energy
between two cumulative readings is spread evenly over the time between them, so a
window's energy is the consumption curve (linear between readings) at its end minus at
its start. A window is judged once the meter's readings cover its end; the first window
judged starts at or after the meter's first reading. One ``Alert`` per episode: when a
window goes above ``threshold_wh`` after one that was not; the episode lasts until a
window is at or below the threshold again. Falling registers add no consumption.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field, model_validator

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Rule
from streaming_app.rules.events import Alert, ThresholdKind


@dataclass(slots=True)
class WindowState:
    """Recent (event time, cumulative consumption Wh) points; the next window to judge."""

    points: list[tuple[int, float]] = field(default_factory=list)
    next_end_ms: int = 0
    in_episode: bool = False


def consumption_at(points: list[tuple[int, float]], ts_ms: int) -> float:
    """The consumption curve at ``ts_ms``: linear between points, flat outside them."""
    index = bisect.bisect_right(points, (ts_ms, float("inf")))
    if index == 0:
        return points[0][1]
    if index == len(points):
        return points[-1][1]
    (t0, e0), (t1, e1) = points[index - 1], points[index]
    return e0 + (e1 - e0) * (ts_ms - t0) / (t1 - t0)


class WindowThresholdRule(Rule[WindowState]):
    """Energy per sliding event-time window above a threshold; one alert per episode."""

    kind: ClassVar[str] = "window_threshold"
    state_type: ClassVar[type[WindowState]] = WindowState
    supported_actions: ClassVar[frozenset[Action]] = frozenset({Action.FLAG})

    window_ms: int = Field(default=900_000, gt=0, description="window length")
    slide_ms: int = Field(default=300_000, gt=0, description="a window starts every slide")
    threshold_wh: float = Field(default=2_000.0, ge=0, description="alert above this energy")
    max_points: int = Field(default=1024, ge=2, description="readings kept per meter")

    @model_validator(mode="after")
    def _slide_within_window(self) -> WindowThresholdRule:
        if self.slide_ms > self.window_ms:
            raise ValueError("slide_ms must not exceed window_ms")
        return self

    def evaluate(self, reading: Reading, state: WindowState, context: Context) -> list[Finding]:
        ts_ms, points, interval = reading.ts_ms, state.points, context.interval
        if not points or interval is None:
            state.points[:] = [(ts_ms, 0.0)]
            first_end = ts_ms + self.window_ms
            state.next_end_ms = -(-first_end // self.slide_ms) * self.slide_ms
            return []
        previous_ts, previous_e = points[-1]
        if ts_ms <= previous_ts:
            return []
        consumed = previous_e + max(interval.energy_wh, 0.0)
        points.append((ts_ms, consumed))
        findings = self._judge_windows(reading.meter_id, state, previous_ts)
        self._trim(state)
        return findings

    def _judge_windows(self, meter_id: str, state: WindowState, previous_ts: int) -> list[Finding]:
        points, findings = state.points, []
        ts_ms, end = points[-1][0], state.next_end_ms
        while end <= ts_ms:
            start = end - self.window_ms
            energy = consumption_at(points, end) - consumption_at(points, start)
            above = energy > self.threshold_wh
            if above and not state.in_episode:
                alert = Alert(
                    meter_id,
                    ThresholdKind.WINDOW_ENERGY,
                    start,
                    end,
                    energy,
                    self.threshold_wh,
                    "Wh",
                )
                findings.append(self.fail("window_threshold", alert))
            state.in_episode = above
            if start >= previous_ts:  # later windows lie in the newest interval too: same energy
                end += (ts_ms - end) // self.slide_ms * self.slide_ms
            end += self.slide_ms
        state.next_end_ms = end
        return findings

    def _trim(self, state: WindowState) -> None:
        oldest_needed = state.next_end_ms - self.window_ms
        points = state.points
        keep_from = max(bisect.bisect_right(points, (oldest_needed, float("inf"))) - 1, 0)
        keep_from = max(keep_from, len(points) - self.max_points)
        del points[:keep_from]
