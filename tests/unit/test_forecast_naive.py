"""Seasonal naive and the metrics: a weekly-periodic series is forecast exactly."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from training.forecast import (
    DayMatrix,
    RollingOrigin,
    SeasonalNaive,
    day_half_hours,
    forecast_next_day,
    naive_scale,
    rolling_forecasts,
    score,
    scores_against_naive,
)


def weekly_frame(days: int, noisy_first_week: bool) -> pd.DataFrame:
    """Two series repeating every week; the first week perturbed so MASE has a scale."""
    ts = pd.date_range("2024-01-01", periods=days * 48, freq="30min", tz="UTC")
    week_slot = np.arange(len(ts)) % (7 * 48)
    rows = []
    for k, series in enumerate(("A", "B")):
        kwh = 0.2 + 0.1 * (k + 1) * (1 + np.sin(2 * np.pi * week_slot / 48)) + week_slot / 5000
        if noisy_first_week:
            kwh[: 7 * 48] *= np.random.default_rng(k).uniform(0.5, 1.5, 7 * 48)
        rows.append(pd.DataFrame({"series_id": series, "ts": ts, "kwh": kwh}))
    return pd.concat(rows, ignore_index=True)


def test_seasonal_naive_reproduces_a_weekly_periodic_series_exactly() -> None:
    matrix = DayMatrix.from_frame(weekly_frame(35, noisy_first_week=True), "UTC")
    plan = RollingOrigin.last_days(matrix, 14)
    naive = rolling_forecasts(matrix, SeasonalNaive, plan)
    np.testing.assert_allclose(naive.forecast, naive.actual)
    scores = scores_against_naive([naive], matrix, plan)["seasonal_naive"]
    assert scores.mase == 0.0
    assert scores.mae_kwh == 0.0
    assert scores.points == 2 * 14 * 48


def test_mase_scale_is_the_in_sample_week_ago_error_per_series() -> None:
    kwh = np.zeros((1, 9, 48))
    kwh[0, 7] = 1.0  # day 7 differs from day 0 by 1; day 8 equals day 1
    np.testing.assert_allclose(naive_scale(kwh), [0.5])


def test_rmae_compares_with_naive_on_the_same_half_hours_only() -> None:
    actual = np.ones((1, 1, 4))
    forecast = np.array([[[1.5, 1.5, 1.5, 1.5]]])
    naive = np.array([[[2.0, 2.0, np.nan, np.nan]]])
    scores = score(actual, forecast, naive, np.array([1.0]))
    assert scores.rmae == 0.5
    assert scores.mae_kwh == 0.5
    assert scores.mase == 0.5
    assert scores.bias_pct == 50.0


def test_a_series_without_naive_error_in_sample_has_no_mase_and_is_counted() -> None:
    actual = np.ones((2, 1, 2))
    scores = score(actual, actual + 0.1, actual, np.array([0.0, 0.2]))
    assert scores.unscaled_series == 1
    assert abs(scores.mase - 0.5) < 1e-12


def test_day_matrix_puts_a_half_hour_in_its_local_day_and_slot() -> None:
    frame = pd.DataFrame(
        {
            "series_id": ["A", "A"],
            "ts": pd.to_datetime(["2024-01-01T22:30Z", "2024-01-01T23:00Z"]),
            "kwh": [1.0, 2.0],
        }
    )
    matrix = DayMatrix.from_frame(frame, "Europe/Paris")  # UTC+1 in winter
    assert matrix.first_day == date(2024, 1, 1)
    assert matrix.kwh[0, 0, 47] == 1.0
    assert matrix.kwh[0, 1, 0] == 2.0


def test_a_local_day_has_46_48_or_50_half_hours_and_the_forecast_covers_them() -> None:
    frame = weekly_frame(100, noisy_first_week=False)
    counts = {}
    for day in (date(2024, 3, 31), date(2024, 3, 30)):
        forecast = forecast_next_day(SeasonalNaive(), frame, day, "Europe/Paris")
        counts[day] = len(forecast) // 2
        assert forecast["forecast_kwh"].notna().sum() >= 2 * 46
    assert counts == {date(2024, 3, 31): 46, date(2024, 3, 30): 48}
    assert len(day_half_hours(date(2024, 10, 27), "Europe/Paris")[0]) == 50
