"""The reading grid: a meter's interval, and which grid points are missing."""

from __future__ import annotations

import pytest

from batch_app.estimation import Gap, TooFewReadingsError, find_gaps, infer_interval_ms
from batch_app.estimation.grid import HOUR_MS, MINUTE_MS

HALF_HOUR_MS = 30 * MINUTE_MS
JAN_1_MS = 1_704_067_200_000  # 2024-01-01T00:00Z


def half_hours(*slots: int) -> list[int]:
    return [JAN_1_MS + slot * HALF_HOUR_MS for slot in slots]


def test_interval_is_the_most_common_step_not_the_shortest_or_the_mean() -> None:
    times = [*half_hours(0, 1, 2, 3, 10, 11, 12), JAN_1_MS + 12 * HALF_HOUR_MS + 60_000]
    assert infer_interval_ms(times) == HALF_HOUR_MS


def test_interval_snaps_clock_jitter_to_a_standard_interval() -> None:
    times = [JAN_1_MS + k * (15 * MINUTE_MS + 2_000) for k in range(10)]
    assert infer_interval_ms(times) == 15 * MINUTE_MS


def test_interval_ties_go_to_the_shorter_whatever_the_order() -> None:
    times = [0, HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS + HALF_HOUR_MS, 3 * HOUR_MS]
    assert infer_interval_ms(times) == infer_interval_ms(times[::-1]) == HALF_HOUR_MS


def test_one_reading_time_has_no_interval() -> None:
    with pytest.raises(TooFewReadingsError) as raised:
        infer_interval_ms([JAN_1_MS, JAN_1_MS])
    assert raised.value.distinct_times == 1


def test_a_gap_is_the_run_of_missing_points_between_two_actual_readings() -> None:
    times = half_hours(0, 1, 5, 6)
    gaps = find_gaps(times, HALF_HOUR_MS, JAN_1_MS, times[-1])
    assert gaps == [Gap(tuple(half_hours(2, 3, 4)), HALF_HOUR_MS, times[1], times[2])]
    assert gaps[0].closed
    assert gaps[0].duration_ms == 3 * HALF_HOUR_MS


def test_a_silent_meter_leaves_a_gap_open_at_the_end() -> None:
    times = half_hours(0, 1, 2)
    (gap,) = find_gaps(times, HALF_HOUR_MS, JAN_1_MS, JAN_1_MS + 4 * HALF_HOUR_MS)
    assert gap.missing_ms == tuple(half_hours(3, 4))
    assert (gap.before_ms, gap.after_ms, gap.closed) == (times[-1], None, False)


def test_a_meter_that_starts_late_leaves_a_gap_open_at_the_start() -> None:
    times = half_hours(3, 4)
    (gap,) = find_gaps(times, HALF_HOUR_MS, JAN_1_MS, times[-1])
    assert gap.missing_ms == tuple(half_hours(0, 1, 2))
    assert (gap.before_ms, gap.after_ms) == (None, times[0])


def test_a_gap_crossing_the_range_start_keeps_its_points_before_the_range() -> None:
    times = half_hours(0, 6, 7)
    (gap,) = find_gaps(times, HALF_HOUR_MS, half_hours(3)[0], times[-1])
    assert gap.missing_ms == tuple(half_hours(1, 2, 3, 4, 5))
    assert (gap.before_ms, gap.after_ms) == (times[0], times[1])


def test_an_off_grid_reading_covers_its_nearest_grid_point() -> None:
    times = [*half_hours(0, 1), half_hours(3)[0] - 4 * MINUTE_MS, *half_hours(4)]
    (gap,) = find_gaps(times, HALF_HOUR_MS, JAN_1_MS, times[-1])
    assert gap.missing_ms == tuple(half_hours(2))
    assert gap.after_ms == times[2]


def test_no_missing_point_means_no_gap() -> None:
    times = half_hours(0, 1, 2, 3)
    assert find_gaps(times, HALF_HOUR_MS, times[0], times[-1]) == []
