"""Estimated readings: what every method guarantees, and what each one reproduces exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_app.estimation import ESTIMATE_COLUMNS, Method, MethodPolicy, estimate_meter
from batch_app.estimation.grid import DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS

HALF_HOUR_MS = 30 * MINUTE_MS
JAN_1_MS = 1_704_067_200_000  # 2024-01-01T00:00Z, a Monday
SLOTS_PER_WEEK = 7 * 48


def readings(ts_ms: np.ndarray, register_wh: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"ts": ts_ms.astype(np.int64), "import_wh": register_wh.astype(float)})


def series(energy_wh: np.ndarray, start_ms: int = JAN_1_MS) -> pd.DataFrame:
    """Half-hourly registers from 1000 Wh whose interval energies are ``energy_wh``."""
    ts = start_ms + HALF_HOUR_MS * np.arange(len(energy_wh) + 1)
    return readings(ts, 1000.0 + np.concatenate([[0.0], np.cumsum(energy_wh)]))


def hide(frame: pd.DataFrame, first: int, count: int) -> pd.DataFrame:
    return frame.drop(index=range(first, first + count)).reset_index(drop=True)


def estimate(frame: pd.DataFrame, method: Method | None = None, **kwargs: object) -> pd.DataFrame:
    policy = MethodPolicy.only(method) if method else MethodPolicy()
    return estimate_meter(
        frame,
        first_ms=JAN_1_MS,
        last_ms=JAN_1_MS + 10 * WEEK_MS,
        time_zone=str(kwargs.pop("time_zone", "UTC")),
        policy=policy,
        **kwargs,  # type: ignore[arg-type]
    )


def weekly_pattern(weeks: int) -> np.ndarray:
    """Interval energies repeating every week exactly, different every slot of the week."""
    week = 50 + 400 * np.abs(np.sin(np.arange(SLOTS_PER_WEEK) * 0.37)) + np.arange(SLOTS_PER_WEEK)
    return np.tile(week, weeks)


@st.composite
def gappy_meters(draw: st.DrawFn) -> tuple[pd.DataFrame, Method]:
    """Three weeks of random use with random holes, and a method to fill them with."""
    count = 3 * SLOTS_PER_WEEK
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale_wh = draw(st.sampled_from([1e-3, 1.0, 500.0, 1e6]))
    energy = rng.exponential(scale_wh, count) * (rng.random(count) > draw(st.floats(0, 1)))
    runs = draw(st.lists(st.tuples(st.integers(1, count - 1), st.integers(1, 100)), max_size=12))
    holes = {slot for start, length in runs for slot in range(start, min(start + length, count))}
    method = draw(st.sampled_from(list(Method)))
    return series(energy).drop(index=sorted(holes)).reset_index(drop=True), method


@settings(max_examples=40, deadline=None)
@given(meter=gappy_meters())
def test_every_gap_adds_up_to_its_register_difference_and_stays_monotone(
    meter: tuple[pd.DataFrame, Method],
) -> None:
    frame, method = meter
    rows = estimate(frame, method)
    register_at = dict(zip(frame["ts"], frame["import_wh"], strict=True))
    assert not set(rows["ts"]) & set(register_at), "an estimate where a reading exists"
    for start, end in rows[["gap_start_ms", "gap_end_ms"]].drop_duplicates().itertuples(False):
        gap = rows[rows["gap_start_ms"] == start]
        before, after = register_at[start], register_at[end]
        to_end = after - gap["import_wh"].iloc[-1]
        assert abs(gap["energy_wh"].sum() + to_end - (after - before)) <= 1e-6
        assert abs(gap["import_wh"].iloc[0] - gap["energy_wh"].iloc[0] - before) <= 1e-6
        assert (gap["energy_wh"] >= 0).all() and to_end >= 0
        assert gap["import_wh"].is_monotonic_increasing
        assert gap["ts"].is_monotonic_increasing and len(gap) == (end - start) // HALF_HOUR_MS - 1


def test_result_has_the_documented_columns_and_types() -> None:
    rows = estimate(hide(series(np.full(100, 10.0)), 50, 3))
    assert dict(rows.dtypes.astype(str)) == ESTIMATE_COLUMNS
    assert list(rows["method"]) == ["linear"] * 3


@pytest.mark.parametrize("method", list(Method))
def test_a_straight_line_is_reproduced_exactly(method: Method) -> None:
    frame = hide(series(np.full(4 * SLOTS_PER_WEEK, 123.25)), 3 * SLOTS_PER_WEEK, 48)
    rows = estimate(frame, method)
    expected = 1000.0 + 123.25 * ((rows["ts"] - JAN_1_MS) // HALF_HOUR_MS)
    assert np.allclose(rows["import_wh"], expected, rtol=0, atol=1e-6)
    assert np.allclose(rows["energy_wh"], 123.25, rtol=0, atol=1e-6)


def test_linear_interpolates_the_register_in_time() -> None:
    frame = readings(JAN_1_MS + HALF_HOUR_MS * np.array([0, 1, 5]), np.array([0.0, 10.0, 50.0]))
    rows = estimate(frame)
    assert list(rows["import_wh"]) == [20.0, 30.0, 40.0]
    assert list(rows["energy_wh"]) == [10.0, 10.0, 10.0]


@pytest.mark.parametrize("length", [1, 5, 48, 96])
def test_like_day_reproduces_a_repeating_weekly_pattern_exactly(length: int) -> None:
    energy = weekly_pattern(5)
    truth = series(energy)
    first = 2 * SLOTS_PER_WEEK + 17
    rows = estimate(hide(truth, first, length), Method.LIKE_DAY)
    assert set(rows["method"]) == {"like_day"}
    assert np.allclose(rows["energy_wh"], energy[first - 1 : first - 1 + length], atol=1e-6)
    assert np.allclose(rows["import_wh"], truth["import_wh"][first : first + length], atol=1e-6)


def test_seasonal_naive_repeats_last_week_scaled_to_the_register() -> None:
    energy = weekly_pattern(3)
    energy[SLOTS_PER_WEEK:] *= 2  # twice the use this week: the shape of last week, scaled
    first = 2 * SLOTS_PER_WEEK + 5
    rows = estimate(hide(series(energy), first, 12), Method.SEASONAL_NAIVE)
    assert set(rows["method"]) == {"seasonal_naive"}
    assert np.allclose(rows["energy_wh"], energy[first - 1 : first - 1 + 12], atol=1e-6)


def test_like_day_skips_weeks_whose_slots_are_missing_too() -> None:
    energy = weekly_pattern(4)
    first = 2 * SLOTS_PER_WEEK + 30
    frame = hide(hide(series(energy), first, 6), first - SLOTS_PER_WEEK + 2, 1)
    rows = estimate(frame, Method.SEASONAL_NAIVE)
    assert set(rows[rows["ts"] > JAN_1_MS + 2 * WEEK_MS]["method"]) == {"linear"}
    rows = estimate(frame, Method.LIKE_DAY)
    like = rows[rows["ts"] > JAN_1_MS + 2 * WEEK_MS]
    assert set(like["method"]) == {"like_day"}
    assert np.allclose(like["energy_wh"], energy[first - 1 : first + 5], atol=1e-6)


def test_short_gaps_go_linear_and_long_ones_like_day_by_default() -> None:
    frame = hide(hide(series(weekly_pattern(3)), 2 * SLOTS_PER_WEEK + 100, 10), 700, 4)
    methods = estimate(frame).groupby("gap_start_ms")["method"].first()
    assert list(methods) == ["linear", "like_day"]
    limit = estimate(frame, linear_limit_ms=5 * HOUR_MS).groupby("gap_start_ms")["method"]
    assert list(limit.first()) == ["linear", "linear"]


def test_like_day_without_history_falls_back_to_linear() -> None:
    rows = estimate(hide(series(weekly_pattern(1)), 100, 20), Method.LIKE_DAY)
    assert set(rows["method"]) == {"linear"} and np.allclose(np.diff(rows["energy_wh"]), 0)


def test_like_days_that_used_nothing_fall_back_to_an_even_spread() -> None:
    energy = np.zeros(3 * SLOTS_PER_WEEK)
    energy[-20:] = 7.0
    rows = estimate(hide(series(energy), 2 * SLOTS_PER_WEEK + 10, 8), Method.LIKE_DAY)
    assert set(rows["method"]) == {"linear"}


def test_gaps_open_at_either_end_are_not_estimated() -> None:
    frame = series(np.full(20, 5.0)).iloc[3:15]
    rows = estimate_meter(
        frame,
        first_ms=JAN_1_MS,
        last_ms=JAN_1_MS + 20 * HALF_HOUR_MS,
        time_zone="UTC",
    )
    assert rows.empty


def test_a_register_that_went_down_across_a_gap_is_not_estimated() -> None:
    frame = readings(JAN_1_MS + HALF_HOUR_MS * np.array([0, 1, 4, 5]), np.array([5, 9, 2, 3]))
    assert estimate(frame).empty


def test_only_rows_in_the_range_are_returned_and_they_do_not_depend_on_it() -> None:
    frame = hide(series(weekly_pattern(3)), 2 * SLOTS_PER_WEEK, 30)
    whole = estimate(frame).set_index("ts")
    cut_ms = JAN_1_MS + (2 * SLOTS_PER_WEEK + 10) * HALF_HOUR_MS
    part = estimate_meter(
        frame, first_ms=cut_ms, last_ms=cut_ms + DAY_MS, time_zone="UTC"
    ).set_index("ts")
    assert part.index.min() == cut_ms and len(part) == 20
    pd.testing.assert_frame_equal(part, whole.loc[part.index])


def test_same_readings_in_any_order_give_the_same_rows() -> None:
    frame = hide(hide(series(weekly_pattern(3)), 2 * SLOTS_PER_WEEK + 50, 30), 400, 2)
    first = estimate(frame)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(estimate(shuffled), first)
    pd.testing.assert_frame_equal(estimate(frame), first)


def test_a_second_run_over_its_own_estimates_changes_nothing() -> None:
    frame = hide(series(weekly_pattern(3)), 2 * SLOTS_PER_WEEK + 50, 30)
    first = estimate(frame)
    actual = frame.assign(quality="A")
    stored = first[["ts", "import_wh"]].assign(quality="E")
    again = estimate(pd.concat([actual, stored], ignore_index=True))
    pd.testing.assert_frame_equal(again, first)


def test_timestamps_may_come_as_datetimes() -> None:
    frame = hide(series(np.full(30, 4.0)), 10, 3)
    as_datetimes = frame.assign(ts=pd.to_datetime(frame["ts"], unit="ms", utc=True))
    pd.testing.assert_frame_equal(estimate(as_datetimes), estimate(frame))
