"""The input every forecaster takes: half-hourly energy per series, checked once.

A series is a meter or an aggregate (a transformer). The frame has ``series_id``,
``ts`` (timezone-aware, the start of a UTC half-hour), ``kwh`` (energy in that
half-hour) and optionally ``temperature_c`` (half-hourly or one value a day; the
daily mean is what the models use). The Spark job builds it from the stored
readings; :func:`half_hourly_from_registers` does the same for a pandas frame of
cumulative-register readings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HALF_HOUR = pd.Timedelta(minutes=30)
REQUIRED_COLUMNS = ("series_id", "ts", "kwh")


class ForecastInputError(ValueError):
    """The frame given to a forecaster does not have the documented shape."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"forecast input: {problem}")


def check_half_hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``ts`` in UTC, or a :class:`ForecastInputError` saying what is wrong."""
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ForecastInputError(f"missing columns {missing}; need {list(REQUIRED_COLUMNS)}")
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ForecastInputError("ts must be timezone-aware (UTC), not naive")
    utc = ts.dt.tz_convert("UTC")
    if (utc != utc.dt.floor(HALF_HOUR)).any():
        raise ForecastInputError("ts must be the start of a half-hour (:00 or :30)")
    if frame.duplicated(["series_id", "ts"]).any():
        raise ForecastInputError("a (series_id, ts) pair is given twice")
    checked = frame.assign(ts=utc)
    if "temperature_c" not in checked.columns:
        checked = checked.assign(temperature_c=np.nan)
    return checked


def half_hourly_from_registers(readings: pd.DataFrame, max_step_s: int = 1800) -> pd.DataFrame:
    """Half-hourly energy from cumulative registers, split in proportion to time.

    ``readings`` has ``series_id``, ``ts`` (aware), ``import_wh`` and optionally
    ``temperature_c``. The register is interpolated linearly at every half-hour boundary
    between two readings at most ``max_step_s`` apart, so the energy of an interval is
    attributed to the half-hours it covers in proportion to time (as the batch's totals
    do); a longer silence or a falling register (reset, rollover) leaves its half-hours
    missing, because guessing is the estimation job's business, not the forecaster's.
    Temperature is the mean of the readings taken within each half-hour.
    """
    parts = [
        _one_series(str(sid), group, max_step_s) for sid, group in readings.groupby("series_id")
    ]
    columns = ["series_id", "ts", "kwh", "temperature_c"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def _one_series(series_id: str, readings: pd.DataFrame, max_step_s: int) -> pd.DataFrame:
    ordered = readings.sort_values("ts")
    ts_s = ordered["ts"].dt.tz_convert("UTC").astype("int64").to_numpy() // 1_000_000_000
    register = ordered["import_wh"].to_numpy(dtype=float)
    step_s = HALF_HOUR.total_seconds()
    bounds = np.arange(np.ceil(ts_s[0] / step_s) * step_s, ts_s[-1] + 1, step_s)
    energy_wh = np.diff(np.interp(bounds, ts_s, register))
    bad = (np.diff(ts_s) > max_step_s) | (np.diff(register) < 0)
    valid = ~_touched(ts_s[:-1][bad], ts_s[1:][bad], bounds[:-1], bounds[1:])
    frame = pd.DataFrame(
        {
            "series_id": series_id,
            "ts": pd.to_datetime(bounds[:-1], unit="s", utc=True),
            "kwh": np.where(valid, energy_wh / 1000, np.nan),
        }
    )
    return frame.merge(_half_hour_temperature(ordered), on="ts", how="left")


def _touched(
    step_start: np.ndarray, step_end: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Per half-hour [low, high): whether any of the given reading-to-reading steps overlaps it."""
    if not len(step_start):
        return np.zeros(len(low), dtype=bool)
    first = np.searchsorted(step_end, low, side="right")  # steps are ordered and disjoint
    overlaps: np.ndarray = (first < len(step_start)) & (
        step_start[np.clip(first, 0, len(step_start) - 1)] < high
    )
    return overlaps


def _half_hour_temperature(readings: pd.DataFrame) -> pd.DataFrame:
    """Mean temperature of the readings taken within each half-hour."""
    if "temperature_c" not in readings.columns:
        return pd.DataFrame({"ts": pd.Series(dtype="datetime64[ns, UTC]"), "temperature_c": []})
    start = readings["ts"].dt.tz_convert("UTC").dt.floor(HALF_HOUR)
    grouped = readings.assign(ts=start).groupby("ts")["temperature_c"].mean()
    return grouped.reset_index()
