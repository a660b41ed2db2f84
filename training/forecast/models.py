"""Next-day forecasters: one vocabulary (``fit``, ``predict``) for every model.

``fit(history)`` learns from a :class:`DayMatrix` of past days; ``predict(known)`` takes
a matrix whose last day is the day to forecast (energy unknown, temperature given; see
:meth:`DayMatrix.known_before`) and returns that day's (series × 48) energy in kWh.
A model is global: it is fitted on many series at once and forecasts any series from its
own history, so a new meter needs no model of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Protocol, Self

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from training.forecast.days import DayMatrix
from training.forecast.features import CATEGORICAL, FEATURES, LEVEL_DAYS, feature_frame


class Forecaster(Protocol):
    """What the evaluation, persistence and the Spark job need from a model."""

    name: ClassVar[str]
    features: tuple[str, ...]

    def fit(self, history: DayMatrix) -> Self: ...

    def predict(self, known: DayMatrix) -> np.ndarray: ...

    def describe(self) -> dict[str, Any]: ...


class ModelNotFittedError(RuntimeError):
    """``predict`` was called on a model that was never fitted (or loaded)."""


@dataclass
class SeasonalNaive:
    """The same half-hour one week earlier: the yardstick of MASE, and a fair fallback."""

    name: ClassVar[str] = "seasonal_naive"
    features: tuple[str, ...] = ("lag_7d",)

    def fit(self, history: DayMatrix) -> Self:
        return self

    def predict(self, known: DayMatrix) -> np.ndarray:
        last = known.days - 1
        if last < 7:
            return np.full((len(known.series_ids), known.kwh.shape[2]), np.nan)
        week_ago: np.ndarray = known.kwh[:, last - 7, :].copy()
        return week_ago

    def describe(self) -> dict[str, Any]:
        return {"season_days": 7}


@dataclass
class GradientBoosted:
    """Histogram gradient boosting on calendar, lagged-load and temperature features.

    It learns each half-hour's energy as a multiple of the series' recent level with
    absolute-error loss: the forecast is a median, which is what minimises MAE (and so
    MASE); the median of a skewed household load sits a little below its mean, which
    shows as a small negative bias. Fitting weights rows by level so that the loss is
    the absolute error in kWh, not in ratios.
    """

    name: ClassVar[str] = "gradient_boosted"
    features: tuple[str, ...] = FEATURES
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 100
    random_state: int = 0
    estimator: HistGradientBoostingRegressor | None = field(default=None, repr=False)
    training_window: tuple[date, date] | None = None

    def fit(self, history: DayMatrix) -> Self:
        positions = np.arange(LEVEL_DAYS, history.days)
        table = feature_frame(history, positions)
        table = table[np.isfinite(table["target"]) & np.isfinite(table["lag_7d"])]
        if table.empty:
            raise ValueError(
                f"too little history to fit {self.name}: need more than {LEVEL_DAYS} days "
                f"with known energy, got {history.days} days"
            )
        self.estimator = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            categorical_features=[name in CATEGORICAL for name in self.features],
            early_stopping=False,
            random_state=self.random_state,
        )
        # a feature never known in training (no temperature at all) cannot be binned;
        # as a constant it is simply never split on
        features = table[list(self.features)]
        features = features.fillna(dict.fromkeys(features.columns[features.isna().all()], 0.0))
        self.estimator.fit(features, table["target"], sample_weight=table["level_kwh"])
        used = table["position"]
        self.training_window = (history.day(int(used.min())), history.day(int(used.max())))
        return self

    def predict(self, known: DayMatrix) -> np.ndarray:
        if self.estimator is None:
            raise ModelNotFittedError(f"{self.name} must be fitted or loaded before predict")
        table = feature_frame(known, np.array([known.days - 1]))
        ratio = self.estimator.predict(table[list(self.features)])
        # a series with no energy known in the last week has a NaN level: no forecast
        forecast = np.clip(ratio, 0.0, None) * table["level_kwh"].to_numpy()
        result: np.ndarray = forecast.reshape(len(known.series_ids), -1)
        return result

    def describe(self) -> dict[str, Any]:
        window = self.training_window
        return {
            "loss": "absolute_error",
            "max_iter": self.max_iter,
            "learning_rate": self.learning_rate,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "random_state": self.random_state,
            "training_window": None if window is None else [d.isoformat() for d in window],
        }


MODELS: dict[str, type[SeasonalNaive] | type[GradientBoosted]] = {
    SeasonalNaive.name: SeasonalNaive,
    GradientBoosted.name: GradientBoosted,
}
