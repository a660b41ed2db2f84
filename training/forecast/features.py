"""Features for forecasting day D, built only from what is known before D.

Every lag is a row offset of at least one day in a :class:`DayMatrix`, so a feature of
day D never reads D's energy or later (the unit tests perturb D onwards to prove it).
Load features are divided by the series' level (its mean half-hour over the 7 days
before D), so that one global model serves a 3 kWh flat and a 60 kWh shop alike; the
model predicts the ratio and the forecaster multiplies back. The only value of day D
itself is its temperature, which stands for the weather forecast.

The forecast is made at local midnight with yesterday complete; a utility forecasting
at noon would drop ``lag_1d`` and the previous day's statistics or shift them.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from training.forecast.days import SLOTS, DayMatrix, nanmean

FEATURES: tuple[str, ...] = (
    "slot_sin",
    "slot_cos",
    "weekday",
    "level_kwh",
    "lag_1d",
    "lag_2d",
    "lag_7d",
    "prev_day_mean",
    "prev_day_peak",
    "slot_mean_7d",
    "weekday_slot_mean_4w",
    "temperature_c",
    "prev_week_temperature_c",
)
CATEGORICAL: tuple[str, ...] = ("weekday",)
HISTORY_DAYS = 28  # the longest look-back (four same weekdays)
LEVEL_DAYS = 7
MIN_LEVEL_KWH = 1e-3  # an empty week must not divide by zero


def feature_frame(matrix: DayMatrix, positions: np.ndarray) -> pd.DataFrame:
    """One row per (series, day position, slot): the features, the level and the target.

    ``target`` is the day's energy divided by ``level_kwh`` (NaN where unknown);
    ``series`` and ``position`` say which row is which.
    """
    padded = np.concatenate(
        [np.full((len(matrix.series_ids), HISTORY_DAYS, SLOTS), np.nan), matrix.kwh], axis=1
    )
    row = positions + HISTORY_DAYS

    def days_back(*lags: int) -> np.ndarray:  # (series, positions, len(lags), SLOTS)
        back: np.ndarray = padded[:, row[:, None] - np.asarray(lags)[None, :], :]
        return back

    last_week = days_back(*range(1, LEVEL_DAYS + 1))
    level = np.maximum(nanmean(last_week, axis=(2, 3)), MIN_LEVEL_KWH)[:, :, None]
    yesterday = days_back(1)[:, :, 0, :]
    per_slot = {
        "lag_1d": yesterday,
        "lag_2d": days_back(2)[:, :, 0, :],
        "lag_7d": days_back(7)[:, :, 0, :],
        "slot_mean_7d": nanmean(last_week, axis=2),
        "weekday_slot_mean_4w": nanmean(days_back(7, 14, 21, 28), axis=2),
    }
    per_day = {
        "prev_day_mean": nanmean(yesterday, axis=2),
        "prev_day_peak": np.where(np.isnan(yesterday).all(axis=2), np.nan, _nanmax(yesterday)),
    }
    shape = (len(matrix.series_ids), len(positions), SLOTS)
    columns: dict[str, np.ndarray] = {
        "series": np.broadcast_to(np.arange(shape[0])[:, None, None], shape),
        "position": np.broadcast_to(positions[None, :, None], shape),
        "slot": np.broadcast_to(np.arange(SLOTS)[None, None, :], shape),
    }
    angle = 2 * np.pi * columns["slot"] / SLOTS
    columns["slot_sin"], columns["slot_cos"] = np.sin(angle), np.cos(angle)
    weekdays = np.array([(matrix.first_day + timedelta(days=int(p))).weekday() for p in positions])
    columns["weekday"] = np.broadcast_to(weekdays[None, :, None], shape)
    columns["level_kwh"] = np.broadcast_to(level, shape)
    for name, values in per_slot.items():
        columns[name] = values / level
    for name, values in per_day.items():
        columns[name] = np.broadcast_to(values[:, :, None] / level, shape)
    columns.update(_temperature(matrix, positions, shape))
    columns["target"] = _target(matrix, positions) / level
    return pd.DataFrame({name: np.asarray(values).reshape(-1) for name, values in columns.items()})


def _temperature(
    matrix: DayMatrix, positions: np.ndarray, shape: tuple[int, int, int]
) -> dict[str, np.ndarray]:
    padded = np.concatenate(
        [np.full((shape[0], HISTORY_DAYS), np.nan), matrix.temperature_c], axis=1
    )
    row = positions + HISTORY_DAYS
    week = padded[:, row[:, None] - np.arange(1, LEVEL_DAYS + 1)[None, :]]
    return {
        "temperature_c": np.broadcast_to(padded[:, row][:, :, None], shape),
        "prev_week_temperature_c": np.broadcast_to(nanmean(week, axis=2)[:, :, None], shape),
    }


def _target(matrix: DayMatrix, positions: np.ndarray) -> np.ndarray:
    inside = positions < matrix.days
    target = np.full((len(matrix.series_ids), len(positions), SLOTS), np.nan)
    target[:, inside] = matrix.kwh[:, positions[inside]]
    return target


def _nanmax(values: np.ndarray) -> np.ndarray:
    peak: np.ndarray = np.where(np.isnan(values), -np.inf, values).max(axis=2)
    return peak
