"""A meter's reading grid: its interval, and the grid points no actual reading covers.

Readings are cumulative registers at interval ends on an epoch-aligned grid (a 30-minute
meter reads at :00 and :30 UTC). A gap is a run of consecutive missing grid points; its
known ends are the actual readings either side, whose register difference is the energy
the gap's intervals must add up to. A gap with no reading after it (the meter is still
silent) or before it (the meter's first reading) is *open*: there is nothing to scale
estimates to, so it is reported, not estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
STANDARD_INTERVALS_MS: tuple[int, ...] = tuple(m * MINUTE_MS for m in (1, 5, 10, 15, 30, 60))
"""The intervals meters are configured with; an inferred interval snaps to one of them."""

Timestamps = npt.NDArray[np.int64]


class TooFewReadingsError(ValueError):
    """An interval cannot be inferred: fewer than two distinct reading times."""

    def __init__(self, distinct_times: int) -> None:
        self.distinct_times = distinct_times
        super().__init__(
            f"need two distinct reading times to infer an interval, got {distinct_times}"
        )


def as_timestamps(ts_ms: Sequence[int] | npt.ArrayLike) -> Timestamps:
    """Sorted, distinct epoch milliseconds (input order must not change any result)."""
    return np.unique(np.asarray(ts_ms, dtype=np.int64))


def infer_interval_ms(ts_ms: Sequence[int] | npt.ArrayLike) -> int:
    """The meter's interval: its most common step, snapped to a standard interval.

    The mode, not the minimum or the mean, because gaps (long steps) and the odd early
    or duplicated reading (short steps) must not move it; snapping absorbs clock jitter.
    Ties go to the shorter interval, so the answer never depends on input order.
    """
    times = as_timestamps(ts_ms)
    if len(times) < 2:
        raise TooFewReadingsError(len(times))
    steps, counts = np.unique(np.diff(times), return_counts=True)
    most_common = int(steps[np.argmax(counts)])  # argmax: first (shortest) of equal counts
    return min(STANDARD_INTERVALS_MS, key=lambda standard: (abs(standard - most_common), standard))


@dataclass(frozen=True)
class Gap:
    """Consecutive missing grid points and the actual readings around them.

    ``missing_ms`` are the interval ends with no reading (ascending); ``before_ms`` and
    ``after_ms`` the actual readings just before and after (``None`` when the gap is open
    at that end). The gap's energy is spread over ``len(missing_ms) + 1`` intervals: the
    missing ones and the one ending at ``after_ms``, which the end reading's register
    difference also spans.
    """

    missing_ms: tuple[int, ...]
    interval_ms: int
    before_ms: int | None
    after_ms: int | None

    @property
    def closed(self) -> bool:
        """Known at both ends, so estimates can be scaled to the register difference."""
        return self.before_ms is not None and self.after_ms is not None

    @property
    def duration_ms(self) -> int:
        """Time without readings: missing intervals times the interval (2 h = 4 half-hours)."""
        return self.missing_ms[-1] - self.missing_ms[0] + self.interval_ms


def _nearest_slot_ms(times: Timestamps, interval_ms: int) -> Timestamps:
    """The grid point each reading covers (an off-grid reading covers the nearest)."""
    return ((times + interval_ms // 2) // interval_ms) * interval_ms


def find_gaps(
    ts_ms: Sequence[int] | npt.ArrayLike, interval_ms: int, first_ms: int, last_ms: int
) -> list[Gap]:
    """Every gap with a missing grid point in ``[first_ms, last_ms]``, extended to its ends.

    A gap that starts before ``first_ms`` (or ends after ``last_ms``) keeps its missing
    points outside the range too: the estimates of a gap must not depend on the range a
    job was asked for, or two runs over overlapping ranges would disagree.
    """
    times = as_timestamps(ts_ms)
    covered = np.unique(_nearest_slot_ms(times, interval_ms))
    grid = np.arange(-(-first_ms // interval_ms) * interval_ms, last_ms + 1, interval_ms)
    missing = grid[~np.isin(grid, covered)]
    if len(missing) == 0:
        return []
    steps = np.diff(missing, prepend=missing[0] - 2 * interval_ms)
    run_starts = np.flatnonzero(steps != interval_ms)
    run_ends = np.append(run_starts[1:], len(missing)) - 1
    span = (interval_ms, first_ms, last_ms)
    return [
        _extend(times, covered, int(missing[start]), int(missing[end]), *span)
        for start, end in zip(run_starts, run_ends, strict=True)
    ]


def _extend(
    times: Timestamps,
    covered: Timestamps,
    first_missing_ms: int,
    last_missing_ms: int,
    interval_ms: int,
    first_ms: int,
    last_ms: int,
) -> Gap:
    """The gap around a run of missing points: its actual ends and all points between."""
    before_index = int(np.searchsorted(times, first_missing_ms)) - 1
    after_index = int(np.searchsorted(times, last_missing_ms, side="right"))
    before = int(times[before_index]) if before_index >= 0 else None
    after = int(times[after_index]) if after_index < len(times) else None
    low = first_ms if before is None else before + 1
    high = last_ms if after is None else after - 1
    points = np.arange(-(-low // interval_ms) * interval_ms, high + 1, interval_ms)
    points = points[~np.isin(points, covered)]
    return Gap(tuple(int(p) for p in points), interval_ms, before, after)
