"""What the data can show: the validator's limits that a labelled fault must clear.

The ground truth labels a fault only where the readings reveal it as that kind; a fault
the rules cannot see would be a mislabel, not a detection limit. Two kinds depend on
the rules' parameters, given here as :class:`DetectionLimits`:

- ``register_decrease`` leaves the register at or above the register rule's
  ``reset_below_wh`` (a fall to below it is a reset, by definition and by the rule);
- ``spike`` comes only when the spike rule has ``spike_min_history`` intervals with
  energy to judge it by, and is sized against the rule's own reference (the median, or
  mean, average power of the last ``spike_history_size`` of them, or the median of the
  latest ``spike_recent_intervals`` if higher), or the meter's level over its latest few
  intervals if higher still, and at least ``spike_min_power_w / spike_ratio``: so it
  clears both ``spike_ratio`` x reference and ``spike_min_power_w``, and stands out from
  the hours just before it.

:class:`SeenIntervals` follows, per meter, what the spike rule remembers of the readings
sent: each reading newer than the newest before it closes an interval, and intervals
with energy join the history (spikes too; the rule only flags them). The injector does
not import the validator (no service imports another), so the defaults are the prod
preset's rules; a run validated with other rules passes theirs (the demo: its preset's).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

MS_PER_HOUR = 3_600_000
TENTHS = 10  # a shifted register shows 0.1 Wh
SMALLEST_WH = 1 / TENTHS


class DetectionLimits(BaseModel):
    """The rule parameters an injected fault must clear (defaults: the prod preset)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reset_below_wh: float = Field(
        1_000.0, ge=0, description="register rule: a fall to below this is a reset"
    )
    spike_ratio: float = Field(8.0, gt=1, description="spike rule: times the baseline power")
    spike_statistic: Literal["median", "mean"] = Field(
        "median", description="spike rule: baseline of the history"
    )
    spike_min_history: int = Field(
        6, ge=1, description="spike rule: intervals with energy needed before judging"
    )
    spike_history_size: int = Field(48, ge=1, description="spike rule: intervals remembered")
    spike_recent_intervals: int = Field(
        6, ge=0, description="spike rule: latest intervals whose median floors the baseline"
    )
    spike_min_power_w: float = Field(100.0, ge=0, description="spike rule: never one below")


@dataclass(slots=True)
class SeenIntervals:
    """The newest reading sent and the average powers (W) of recent intervals with energy."""

    last_ts_ms: int | None = None
    last_wh: float = 0.0
    history_w: list[float] = field(default_factory=list)

    def see(self, ts_ms: int, register_wh: float, history_size: int) -> None:
        """Note a reading as the spike rule takes it (older ones it skips)."""
        if self.last_ts_ms is not None and ts_ms <= self.last_ts_ms:
            return
        energy_wh = register_wh - self.last_wh
        if self.last_ts_ms is not None and energy_wh > 0:
            self.history_w.append(energy_wh * MS_PER_HOUR / (ts_ms - self.last_ts_ms))
            del self.history_w[:-history_size]
        self.last_ts_ms, self.last_wh = ts_ms, register_wh

    def judges_spikes(self, limits: DetectionLimits) -> bool:
        """Whether the rule has history enough to judge the next interval."""
        return self.last_ts_ms is not None and len(self.history_w) >= limits.spike_min_history


def spike_baseline_w(history_w: list[float], limits: DetectionLimits, recent: int) -> float:
    """The power a spike is a multiple of: the highest of the rule's reference (its
    baseline, floored by the median of its latest ``spike_recent_intervals``), the meter's
    median over its ``recent`` latest intervals (a spike stands out from the hours just
    before it), and ``spike_min_power_w / spike_ratio`` (so it clears the rule's floor)."""
    typical = statistics.median if limits.spike_statistic == "median" else statistics.fmean
    levels = [typical(history_w), limits.spike_min_power_w / limits.spike_ratio]
    levels += [
        statistics.median(history_w[-window:])
        for window in (limits.spike_recent_intervals, recent)
        if window
    ]
    return max(levels)


def spike_energy_wh(power_w: float, duration_ms: int) -> float:
    """The energy of ``power_w`` over ``duration_ms``, rounded up to the register's 0.1 Wh."""
    return math.ceil(power_w * duration_ms / MS_PER_HOUR * TENTHS) / TENTHS


def decrease_room_wh(shown_before_wh: float, limits: DetectionLimits) -> float:
    """How far the register may fall and still read as a decrease, not a reset."""
    return shown_before_wh - limits.reset_below_wh


def can_decrease(
    shown_before_wh: float, bounds: tuple[float, float], limits: DetectionLimits
) -> bool:
    """Whether a drop of at least ``bounds[0]`` (and 0.1 Wh) still reads as a decrease."""
    return decrease_room_wh(shown_before_wh, limits) >= max(bounds[0], SMALLEST_WH)


def decrease_drop_wh(
    shown_before_wh: float,
    bounds: tuple[float, float],
    limits: DetectionLimits,
    rng: np.random.Generator,
) -> float:
    """A drop drawn within ``bounds``, cut to the room above ``reset_below_wh`` and
    rounded down to 0.1 Wh, so the register lands at or above it (see :func:`can_decrease`)."""
    high = min(bounds[1], decrease_room_wh(shown_before_wh, limits))
    drawn_wh = float(rng.uniform(min(bounds[0], high), high))
    return max(math.floor(drawn_wh * TENTHS) / TENTHS, SMALLEST_WH)
