"""Half-hourly energy as a (series × local day × half-hour slot) array.

Forecasts are made per local day, so the models work on days: row ``d`` of a series
is its 48 half-hours of local day ``d`` (slot = local minutes since midnight // 30).
Lags become row offsets ("the same half-hour 7 days earlier" is ``d - 7``, in local
wall-clock time, so the evening peak stays the evening peak across a clock change),
and "known before day D" becomes "rows before D", which makes leakage easy to rule out.
On a 46-half-hour spring day two slots stay empty; on a 50-half-hour autumn day the
repeated hour's two half-hours share their slot (the mean is kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from training.forecast.frame import HALF_HOUR, check_half_hourly

SLOTS = 48


@dataclass(frozen=True)
class DayMatrix:
    """Energy (kWh) and daily mean temperature per series and consecutive local day."""

    series_ids: tuple[str, ...]
    first_day: date
    kwh: np.ndarray  # (series, days, SLOTS); NaN where unknown
    temperature_c: np.ndarray  # (series, days); NaN where unknown
    time_zone: str

    @property
    def days(self) -> int:
        return int(self.kwh.shape[1])

    def day(self, position: int) -> date:
        return self.first_day + timedelta(days=position)

    def position(self, day: date) -> int:
        return (day - self.first_day).days

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, time_zone: str) -> DayMatrix:
        """Build from a half-hourly frame (see :mod:`training.forecast.frame`)."""
        checked = check_half_hourly(frame)
        local = checked["ts"].dt.tz_convert(time_zone)
        local_day = local.dt.date
        first_day: date = local_day.min()
        day_pos = (pd.to_datetime(local_day) - pd.Timestamp(first_day)).dt.days.to_numpy()
        slot = ((local.dt.hour * 60 + local.dt.minute) // 30).to_numpy()
        codes, series = pd.factorize(checked["series_id"].astype(str), sort=True)
        shape = (len(series), int(day_pos.max()) + 1)
        kwh = _mean_at((*shape, SLOTS), (codes, day_pos, slot), checked["kwh"].to_numpy(float))
        temperature = _mean_at(shape, (codes, day_pos), checked["temperature_c"].to_numpy(float))
        return cls(tuple(str(s) for s in series), first_day, kwh, temperature, time_zone)

    def before(self, day: date) -> DayMatrix:
        """The days before ``day``: what is known when ``day``'s forecast is made.

        Days between the end of the data and ``day`` are added empty, so the last row is
        always the day before ``day`` and lags stay aligned.
        """
        stop = self.position(day)
        if stop < 0:
            raise ValueError(f"{day} is before the first day of the data ({self.first_day})")
        missing = max(stop - self.days, 0)
        kwh = np.concatenate(
            [self.kwh[:, :stop], np.full((len(self.series_ids), missing, SLOTS), np.nan)], axis=1
        )
        temperature = np.concatenate(
            [self.temperature_c[:, :stop], np.full((len(self.series_ids), missing), np.nan)], axis=1
        )
        return replace(self, kwh=kwh, temperature_c=temperature)

    def known_before(self, day: date, temperature_c: np.ndarray | None = None) -> DayMatrix:
        """The days before ``day`` plus ``day`` itself with its energy unknown.

        ``temperature_c`` (one value per series) is the day's forecast temperature; by
        default the day's value in this matrix is used, standing for the weather
        forecast a utility has the day before (in the benchmark, the measured value).
        """
        position = self.position(day)
        if temperature_c is None:
            temperature_c = np.full(len(self.series_ids), np.nan)
            if position < self.days:
                temperature_c = self.temperature_c[:, position]
        history = self.before(day)
        empty = np.full((len(self.series_ids), 1, SLOTS), np.nan)
        return replace(
            history,
            kwh=np.concatenate([history.kwh, empty], axis=1),
            temperature_c=np.concatenate(
                [history.temperature_c, np.asarray(temperature_c, float)[:, None]], axis=1
            ),
        )

    def grouped(self, groups: Mapping[str, str]) -> DayMatrix:
        """Sum of the member series per group (a transformer's load from its meters).

        A half-hour with any member missing is missing: a partial sum would look like a
        drop in load. Temperature is the members' mean.
        """
        names = sorted(set(groups.values()))
        members = [[i for i, s in enumerate(self.series_ids) if groups.get(s) == g] for g in names]
        kwh = np.stack([self.kwh[rows].sum(axis=0) for rows in members])
        temperature = np.stack([nanmean(self.temperature_c[rows], axis=0) for rows in members])
        return replace(self, series_ids=tuple(names), kwh=kwh, temperature_c=temperature)


def day_half_hours(day: date, time_zone: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The UTC starts of the half-hours of local ``day`` (46, 48 or 50) and their slots."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    starts = pd.date_range(start, end, freq=HALF_HOUR, inclusive="left").tz_convert("UTC")
    local = starts.tz_convert(time_zone)
    return starts, np.asarray((local.hour * 60 + local.minute) // 30)


def _mean_at(
    shape: tuple[int, ...], where: tuple[np.ndarray, ...], values: np.ndarray
) -> np.ndarray:
    sums = np.zeros(shape)
    counts = np.zeros(shape)
    known = ~np.isnan(values)
    index = tuple(axis[known] for axis in where)
    np.add.at(sums, index, values[known])
    np.add.at(counts, index, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: np.ndarray = np.where(counts > 0, sums / counts, np.nan)
    return mean


def nanmean(values: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """Mean of the known values along ``axis``; NaN (and no warning) where none is known."""
    known = ~np.isnan(values)
    counts = known.sum(axis=axis)
    sums = np.where(known, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean: np.ndarray = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return mean
