"""The next local day's forecast of one transformer and its meters: the pandas side of
the second ``applyInPandas``.

The day's temperature stands in for a weather forecast the platform does not have: each
series' latest known daily mean (persistence). A half-hour whose forecast is unknown (a
meter silent all last week, a transformer with such a meter) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from training.forecast import DayMatrix, day_half_hours
from training.forecast_spark.fitting import ChosenModels
from training.forecast_spark.half_hours import NO_TRANSFORMER, as_utc

FORECAST_SCHEMA = (
    "series string, series_id string, transformer_id string, ts timestamp, kwh double, "
    "model string, version string"
)
FORECAST_COLUMNS = ("series", "series_id", "transformer_id", "ts", "kwh", "model", "version")
METER, TRANSFORMER = "meter", "transformer"


def latest_temperature(matrix: DayMatrix) -> np.ndarray:
    """Per series, the last known daily mean temperature (NaN if none)."""
    known = ~np.isnan(matrix.temperature_c)
    last = np.where(known.any(axis=1), matrix.days - 1 - np.argmax(known[:, ::-1], axis=1), -1)
    rows = np.arange(len(matrix.series_ids))
    latest: np.ndarray = np.where(last >= 0, matrix.temperature_c[rows, last], np.nan)
    return latest


@dataclass(frozen=True)
class NextDay:
    """Forecasts ``day`` (local to ``time_zone``) for one group's half-hours."""

    models: ChosenModels
    day: date
    time_zone: str
    threads: int = 1

    def __call__(self, half_hours: pd.DataFrame) -> pd.DataFrame:
        with threadpool_limits(limits=self.threads):
            return self._forecast(half_hours)

    def _forecast(self, half_hours: pd.DataFrame) -> pd.DataFrame:
        midnight = pd.Timestamp(datetime.combine(self.day, time(), ZoneInfo(self.time_zone)))
        frame = half_hours.assign(ts=as_utc(half_hours["ts"]))
        frame = frame[frame["ts"] < midnight.tz_convert("UTC")]
        if frame.empty:
            return pd.DataFrame(columns=list(FORECAST_COLUMNS))
        transformer = str(frame["transformer_id"].iloc[0])
        matrix = DayMatrix.from_frame(
            frame.rename(columns={"meter_id": "series_id"}), self.time_zone
        )
        meter_kwh = self.models.meter.predict(
            matrix.known_before(self.day, latest_temperature(matrix))
        )
        parts = [
            self._rows(METER, matrix.series_ids, transformer, meter_kwh, self.models.meter_model)
        ]
        if transformer != NO_TRANSFORMER and self.models.transformer_model is not None:
            parts.append(
                self._rows(
                    TRANSFORMER,
                    (transformer,),
                    transformer,
                    self._transformer(matrix, meter_kwh),
                    self.models.transformer_model,
                )
            )
        out = pd.concat(parts, ignore_index=True)
        return out[out["kwh"].notna()].reset_index(drop=True)

    def _transformer(self, matrix: DayMatrix, meter_kwh: np.ndarray) -> np.ndarray:
        if self.models.transformer is None:  # bottom-up: a half-hour needs every meter's
            summed: np.ndarray = meter_kwh.sum(axis=0, keepdims=True)
            return summed
        total = matrix.grouped(dict.fromkeys(matrix.series_ids, "all"))
        known = total.known_before(self.day, latest_temperature(total))
        forecast: np.ndarray = self.models.transformer.predict(known)
        return forecast

    def _rows(
        self, series: str, ids: tuple[str, ...], transformer: str, kwh: np.ndarray, model: str
    ) -> pd.DataFrame:
        starts, slots = day_half_hours(self.day, self.time_zone)
        count = len(starts)
        return pd.DataFrame(
            {
                "series": series,
                "series_id": np.repeat(np.asarray(ids, dtype=object), count),
                "transformer_id": transformer,
                "ts": np.tile(starts.tz_convert(None).to_numpy(), len(ids)),
                "kwh": kwh[:, slots].reshape(-1).astype(float),
                "model": model,
                "version": self.models.version,
            }
        )
