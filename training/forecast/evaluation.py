"""Rolling-origin evaluation: every test day is forecast from the days before it only.

For each local day of the test period, in order, the forecaster sees
:meth:`DayMatrix.known_before` that day (history up to the previous midnight, plus the
day's temperature as the weather forecast) and forecasts its half-hours. The model is
refitted on :meth:`DayMatrix.before` the day every ``retrain_every_days`` days (7 by
default: weekly retraining, as a utility would schedule it; 1 refits for every day);
between refits the model is older but the lags it reads are always the latest. No
fit ever sees the day it forecasts or any later day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from training.forecast.days import DayMatrix
from training.forecast.metrics import Scores, naive_scale, score
from training.forecast.models import Forecaster, SeasonalNaive


@dataclass(frozen=True)
class RollingOrigin:
    """The test period (its first day and length) and how often the model is refitted."""

    first_test_day: date
    test_days: int
    retrain_every_days: int = 7

    @classmethod
    def last_days(
        cls, matrix: DayMatrix, test_days: int, retrain_every_days: int = 7
    ) -> RollingOrigin:
        """The last ``test_days`` local days of ``matrix`` as the test period."""
        first = matrix.day(matrix.days - test_days)
        return cls(first, test_days, retrain_every_days)

    @property
    def days(self) -> list[date]:
        return [self.first_test_day + timedelta(days=k) for k in range(self.test_days)]


@dataclass
class Evaluation:
    """Forecasts (series × test days × slots) of one model, with the actuals they face."""

    model: str
    actual: np.ndarray
    forecast: np.ndarray
    fits: list[date] = field(default_factory=list)  # the first day each fit did not see


def rolling_forecasts(
    matrix: DayMatrix, make_model: Callable[[], Forecaster], plan: RollingOrigin
) -> Evaluation:
    """Forecast every test day of ``plan`` as described in the module docstring."""
    forecasts = []
    fits: list[date] = []
    model = make_model()
    for k, day in enumerate(plan.days):
        if k % plan.retrain_every_days == 0:
            model = make_model().fit(matrix.before(day))
            fits.append(day)
        forecasts.append(model.predict(matrix.known_before(day)))
    test = slice(matrix.position(plan.first_test_day), matrix.position(plan.days[-1]) + 1)
    return Evaluation(model.name, matrix.kwh[:, test], np.stack(forecasts, axis=1), fits)


def bottom_up(evaluation: Evaluation, matrix: DayMatrix, groups: Mapping[str, str]) -> Evaluation:
    """Per-series forecasts and actuals summed per group (e.g. meters per transformer)."""
    names = sorted(set(groups.values()))
    rows = [[i for i, s in enumerate(matrix.series_ids) if groups.get(s) == g] for g in names]
    return Evaluation(
        f"{evaluation.model} (bottom-up)",
        np.stack([evaluation.actual[r].sum(axis=0) for r in rows]),
        np.stack([evaluation.forecast[r].sum(axis=0) for r in rows]),
        evaluation.fits,
    )


def scores_against_naive(
    evaluations: list[Evaluation], matrix: DayMatrix, plan: RollingOrigin
) -> dict[str, Scores]:
    """Scores per model; the week-ago naive forecast and the MASE scale come from ``matrix``."""
    naive = rolling_forecasts(matrix, SeasonalNaive, plan)
    scale = naive_scale(matrix.before(plan.first_test_day).kwh)
    return {e.model: score(e.actual, e.forecast, naive.forecast, scale) for e in evaluations}
