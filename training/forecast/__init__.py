"""Next-day half-hourly consumption forecasts per meter and per transformer.

Pure pandas/numpy/scikit-learn, one frame of half-hourly energy per call, so a Spark
job can run it per partition of series. The pieces, in the order data flows:

- :mod:`~training.forecast.frame`: the input frame (``series_id, ts, kwh`` and optional
  ``temperature_c``) and half-hours from cumulative registers;
- :mod:`~training.forecast.days`: that frame as series × local day × half-hour;
- :mod:`~training.forecast.features`: what is known before the day to forecast;
- :mod:`~training.forecast.models`: seasonal naive and gradient-boosted forecasters;
- :mod:`~training.forecast.evaluation` and :mod:`~training.forecast.metrics`: rolling
  origin, MASE against seasonal naive, rMAE, MAE, bias;
- :mod:`~training.forecast.persistence`: model folders with their metadata;
- :mod:`~training.forecast.next_day`: one day's forecast from a frame.

The chosen model (``CHOSEN_MODEL``) is the gradient-boosted one: see "Consumption
forecasts" in the README for the figures behind the choice.
"""

from training.forecast.days import DayMatrix, day_half_hours
from training.forecast.evaluation import (
    Evaluation,
    RollingOrigin,
    bottom_up,
    rolling_forecasts,
    scores_against_naive,
)
from training.forecast.features import FEATURES, feature_frame
from training.forecast.frame import (
    ForecastInputError,
    check_half_hourly,
    half_hourly_from_registers,
)
from training.forecast.metrics import Scores, naive_scale, score
from training.forecast.models import Forecaster, GradientBoosted, ModelNotFittedError, SeasonalNaive
from training.forecast.next_day import forecast_next_day
from training.forecast.persistence import (
    FeatureListMismatchError,
    ModelFolderError,
    load_model,
    read_metadata,
    save_model,
)

CHOSEN_MODEL = GradientBoosted

__all__ = [
    "CHOSEN_MODEL",
    "FEATURES",
    "DayMatrix",
    "Evaluation",
    "FeatureListMismatchError",
    "ForecastInputError",
    "Forecaster",
    "GradientBoosted",
    "ModelFolderError",
    "ModelNotFittedError",
    "RollingOrigin",
    "Scores",
    "SeasonalNaive",
    "bottom_up",
    "check_half_hourly",
    "day_half_hours",
    "feature_frame",
    "forecast_next_day",
    "half_hourly_from_registers",
    "load_model",
    "naive_scale",
    "read_metadata",
    "rolling_forecasts",
    "save_model",
    "score",
    "scores_against_naive",
]
