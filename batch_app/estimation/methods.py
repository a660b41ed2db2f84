"""The estimation methods: each gives the *shape* of a gap's energy, then one scaling.

Every method answers the same question: how is the gap's energy shared among its
intervals? It returns one weight per interval (the missing ones and the one ending at
the reading after the gap), or ``None`` when it has no valid history. :func:`scale`
then turns weights into registers that meet the known end exactly, whatever the method,
so the register difference is never contradicted and the estimates add up to the day.

- ``linear``: weights are the intervals' durations: the register is interpolated in time.
- ``like_day``: weights are the mean energy of the same local slots on the nearest valid
  same-weekday days (a week away, two weeks, ...; back first at equal distance).
- ``seasonal_naive``: the same slots exactly one week earlier (the baseline of forecasting).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from batch_app.estimation.grid import Gap, Timestamps
from batch_app.estimation.history import Energies, like_weeks_mean, nearest_first


class Method(StrEnum):
    """The ``estimation_method`` written beside every estimated reading."""

    LINEAR = "linear"
    LIKE_DAY = "like_day"
    SEASONAL_NAIVE = "seasonal_naive"


def _known(value: int | None) -> int:
    if value is None:
        raise ValueError("an open gap has no known end to estimate against")
    return value


def interval_ends(gap: Gap) -> Timestamps:
    """The ends of the gap's intervals on the grid: the missing points, then the reading after."""
    after = _known(gap.after_ms)
    after_slot = (after + gap.interval_ms // 2) // gap.interval_ms * gap.interval_ms
    return np.array([*gap.missing_ms, after_slot], dtype=np.int64)


def linear_weights(gap: Gap) -> Energies:
    """Durations of the gap's intervals (exact, also when an end reading is off-grid)."""
    bounds = np.array([_known(gap.before_ms), *gap.missing_ms, _known(gap.after_ms)])
    return np.diff(bounds).astype(np.float64)


def like_day_weights(
    gap: Gap,
    energies: pd.Series,
    time_zone: str,
    *,
    days: int,
    max_weeks: int,
    look_forward: bool,
) -> Energies | None:
    """Mean like-day energies of the gap's slots, or ``None`` without a valid like day."""
    shifts = nearest_first(max_weeks, look_forward=look_forward)
    return like_weeks_mean(interval_ends(gap), energies, time_zone, week_shifts=shifts, days=days)


def seasonal_naive_weights(gap: Gap, energies: pd.Series, time_zone: str) -> Energies | None:
    """The gap's slots one week earlier, or ``None`` if any of them was not measured."""
    return like_weeks_mean(interval_ends(gap), energies, time_zone, week_shifts=[-1], days=1)


def scale(weights: Energies, before_wh: float, after_wh: float) -> Energies:
    """Registers at the missing points: ``before_wh`` plus the weights' share of the rise.

    Computed as cumulative share times the rise, then clipped to the known ends, so the
    registers are non-decreasing and never pass ``after_wh`` even by a rounding error;
    the last interval (to the actual reading) takes exactly what is left.
    """
    cumulative = np.cumsum(weights)
    rise = after_wh - before_wh
    registers = before_wh + rise * (cumulative[:-1] / cumulative[-1])
    clipped: Energies = np.clip(registers, before_wh, after_wh)
    return clipped
