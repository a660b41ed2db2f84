"""Spikes: an interval's average power far above the meter's recent history.

Average power of an interval is its energy over its duration, so a long interval after
a gap is not mistaken for a spike. With at least ``min_history`` intervals remembered
(the last ``history_size`` with energy), an interval fails when its power exceeds
``min_power_w`` and ``ratio`` times the reference: the history's median (or mean), or
the median of its latest ``recent_intervals`` if that is higher. Without the latter, a
history of night hours made the morning's rise to the day's level look like spikes
(every false spike on the injector's half-hourly fault mix went away with it); with
it, a level the meter has just reached is no spike. Every interval with energy joins
the history, spikes too: the median shrugs off the odd spike, and a lasting change of
level stops being one once it fills half the recent window. Zero intervals stay out
(they say nothing about the meter's level; zero runs are the flat-line rule's).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from pydantic import Field

from smart_meter.reading import Reading
from streaming_app.rules.base import Context, Finding, Rule
from streaming_app.rules.events import Spike

MS_PER_HOUR = 3_600_000


@dataclass(slots=True)
class SpikeState:
    """The average powers (W) of recent intervals, oldest first."""

    history_w: list[float] = field(default_factory=list)


def baseline(history_w: list[float], statistic: str) -> float:
    """The median or mean of the history."""
    return statistics.median(history_w) if statistic == "median" else statistics.fmean(history_w)


def reference(history_w: list[float], statistic: str, recent_intervals: int) -> float:
    """The baseline, or the median of the latest ``recent_intervals`` if higher (0: off)."""
    level = baseline(history_w, statistic)
    if recent_intervals:
        level = max(level, statistics.median(history_w[-recent_intervals:]))
    return level


class SpikeRule(Rule[SpikeState]):
    """Interval power above ratio × the recent median (or mean), and the latest level."""

    kind: ClassVar[str] = "spike"
    state_type: ClassVar[type[SpikeState]] = SpikeState

    ratio: float = Field(default=8.0, gt=1, description="times the baseline that is a spike")
    statistic: Literal["median", "mean"] = Field(default="median", description="baseline")
    min_history: int = Field(default=6, ge=1, description="intervals needed before judging")
    history_size: int = Field(default=48, ge=1, description="intervals remembered")
    recent_intervals: int = Field(
        default=6, ge=0, description="latest intervals whose median is a floor of the baseline"
    )
    min_power_w: float = Field(default=100.0, ge=0, description="never a spike below this")

    def evaluate(self, reading: Reading, state: SpikeState, context: Context) -> list[Finding]:
        interval = context.interval
        if interval is None or not interval.newer or interval.energy_wh <= 0:
            return []
        ts_ms = reading.ts_ms
        power_w = interval.energy_wh * MS_PER_HOUR / interval.duration_ms
        history, findings = state.history_w, []
        if len(history) >= self.min_history:
            baseline_w = reference(history, self.statistic, self.recent_intervals)
            if power_w > self.min_power_w and power_w > self.ratio * baseline_w:
                findings.append(
                    self.fail("spike", Spike(reading.meter_id, ts_ms, power_w, baseline_w))
                )
                if self.rejects:
                    return findings
        history.append(power_w)
        del history[: -self.history_size]
        return findings
