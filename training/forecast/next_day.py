"""Forecasting one local day from a pandas frame: the call a Spark job makes per partition.

The frame holds the series' half-hourly history (at least the 28 days before ``day``
for every feature, 8 for the minimum); rows on or after ``day`` are ignored, so passing
more data cannot leak into the forecast.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from training.forecast.days import DayMatrix, day_half_hours
from training.forecast.models import Forecaster

FORECAST_COLUMNS = ("series_id", "ts", "forecast_kwh", "model")


def forecast_next_day(
    model: Forecaster,
    history: pd.DataFrame,
    day: date,
    time_zone: str,
    temperature_c: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Half-hourly forecasts of local ``day`` for every series in ``history``.

    ``temperature_c`` is the day's forecast mean temperature per series (missing
    series or no mapping: unknown, which the gradient-boosted model tolerates).
    Returns ``series_id, ts`` (UTC half-hour start; 46, 48 or 50 a series) ``,
    forecast_kwh, model``; a series without energy in the last week gets NaN.
    """
    matrix = DayMatrix.from_frame(history, time_zone)
    temperatures = temperature_c or {}
    day_temperature = np.array([temperatures.get(s, np.nan) for s in matrix.series_ids])
    forecast = model.predict(matrix.known_before(day, day_temperature))
    starts, slots = day_half_hours(day, time_zone)
    series = len(matrix.series_ids)
    return pd.DataFrame(
        {
            "series_id": np.repeat(matrix.series_ids, len(starts)),
            "ts": pd.to_datetime(np.tile(starts.tz_convert(None).to_numpy(), series), utc=True),
            "forecast_kwh": forecast[:, slots].reshape(-1),
            "model": model.name,
        }
    )
