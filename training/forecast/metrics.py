"""Accuracy of next-day forecasts, relative to the seasonal naive yardstick.

- **MASE** (Hyndman & Koehler): a series' test MAE divided by the in-sample MAE of the
  week-ago naive forecast on that series (the days before the test period); the
  figure reported is the mean over series. Below 1: better than what the week-ago
  forecast did in-sample. Series whose in-sample naive error is 0 have no scale and are
  left out (counted in ``unscaled_series``).
- **rMAE**: the model's MAE divided by seasonal naive's MAE on exactly the same test
  half-hours (pooled over series), so both face the same days.
- **MAE** and **bias** (mean of forecast minus actual) in kWh per half-hour; bias also
  relative to the mean actual energy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from training.forecast.days import nanmean

SEASON_DAYS = 7


@dataclass(frozen=True)
class Scores:
    """The figures of one model on one data set."""

    mase: float
    rmae: float
    mae_kwh: float
    bias_kwh: float
    bias_pct: float
    points: int
    series: int
    unscaled_series: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def naive_scale(in_sample_kwh: np.ndarray) -> np.ndarray:
    """Per series: mean |y(d, s) - y(d - 7, s)| over the in-sample days (series, days, slots)."""
    if in_sample_kwh.shape[1] <= SEASON_DAYS:
        raise ValueError(
            f"MASE needs more than {SEASON_DAYS} in-sample days, got {in_sample_kwh.shape[1]}"
        )
    errors = np.abs(in_sample_kwh[:, SEASON_DAYS:] - in_sample_kwh[:, :-SEASON_DAYS])
    scale: np.ndarray = nanmean(errors, axis=(1, 2))
    return scale


def score(actual: np.ndarray, forecast: np.ndarray, naive: np.ndarray, scale: np.ndarray) -> Scores:
    """Scores of ``forecast`` against ``actual`` (both series × days × slots)."""
    seen = np.isfinite(actual) & np.isfinite(forecast)
    error = np.where(seen, forecast - actual, np.nan)
    series_mae = nanmean(np.abs(error), axis=(1, 2))
    scaled = np.isfinite(scale) & (scale > 0) & np.isfinite(series_mae)
    both = seen & np.isfinite(naive)
    naive_mae = float(np.abs(naive - actual)[both].mean()) if both.any() else np.nan
    model_mae_same = float(np.abs(error)[both].mean()) if both.any() else np.nan
    mean_actual = float(actual[seen].mean()) if seen.any() else np.nan
    bias = float(error[seen].mean()) if seen.any() else np.nan
    return Scores(
        mase=float((series_mae[scaled] / scale[scaled]).mean()) if scaled.any() else np.nan,
        rmae=model_mae_same / naive_mae if naive_mae > 0 else np.nan,
        mae_kwh=float(np.abs(error[seen]).mean()) if seen.any() else np.nan,
        bias_kwh=bias,
        bias_pct=100 * bias / mean_actual if mean_actual else np.nan,
        points=int(seen.sum()),
        series=int(seen.any(axis=(1, 2)).sum()),
        unscaled_series=int((~scaled & seen.any(axis=(1, 2))).sum()),
    )
