"""Which model forecasts best: a rolling origin over the last days, on the driver.

The sample's half-hours become a :class:`DayMatrix` of meters and one of transformers
(each the sum of its meters). Every model forecasts each test day from the days before
it only; MASE is against the week-ago naive forecast, per series, then averaged.
Meters: seasonal naive against the global gradient-boosted model. Transformers: seasonal
naive, the same kind of model fitted on the transformers' sums (aggregate) and the sum of
the meters' forecasts (bottom-up). The level's chosen model has the lowest MASE.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from training.forecast import (
    DayMatrix,
    Evaluation,
    GradientBoosted,
    RollingOrigin,
    Scores,
    SeasonalNaive,
    bottom_up,
    rolling_forecasts,
    scores_against_naive,
)
from training.forecast_spark.half_hours import NO_TRANSFORMER, as_utc

TEST_DAYS = 7
MIN_FIT_DAYS = 14  # before the test period: a week of lags, then a week to learn from
MIN_HISTORY_DAYS = MIN_FIT_DAYS + TEST_DAYS

NAIVE = SeasonalNaive.name
BOOSTED = GradientBoosted.name
AGGREGATE = "gradient_boosted_aggregate"
BOTTOM_UP = "gradient_boosted_bottom_up"
METER_MODELS = (NAIVE, BOOSTED)
TRANSFORMER_MODELS = (NAIVE, AGGREGATE, BOTTOM_UP)


@dataclass(frozen=True)
class Matrices:
    """The sample as days: meters, their transformers' sums, and who belongs where."""

    meters: DayMatrix
    transformers: DayMatrix | None
    groups: dict[str, str]  # meter -> transformer (meters with a transformer only)


@dataclass(frozen=True)
class FleetScores:
    """Scores per level and model over the test days, and the model chosen per level."""

    first_test_day: date
    test_days: int
    meters: dict[str, Scores]
    transformers: dict[str, Scores]

    @property
    def meter_model(self) -> str:
        return best(self.meters)

    @property
    def transformer_model(self) -> str | None:
        return best(self.transformers) if self.transformers else None


def best(scores: Mapping[str, Scores]) -> str:
    """The model with the lowest MASE (an unknown MASE never wins)."""
    return min(scores, key=lambda m: (math.isnan(scores[m].mase), scores[m].mase, m))


def sample_transformers(transformers: Sequence[str], limit: int) -> list[str]:
    """Up to ``limit`` transformers, the same ones on every run (by a stable hash)."""
    ranked = sorted(set(transformers), key=lambda t: (zlib.crc32(t.encode()), t))
    return sorted(ranked[:limit])


def matrices(frame: pd.DataFrame, time_zone: str, last_day: date) -> Matrices:
    """Days up to ``last_day`` of the half-hours in ``frame`` (``HALF_HOUR_COLUMNS``)."""
    series = frame.rename(columns={"meter_id": "series_id"}).assign(ts=as_utc(frame["ts"]))
    meters = DayMatrix.from_frame(series, time_zone).before(last_day + timedelta(days=1))
    owners = frame.drop_duplicates("meter_id").set_index("meter_id")["transformer_id"]
    groups = {str(m): str(t) for m, t in owners.items() if t != NO_TRANSFORMER}
    transformers = meters.grouped(groups) if groups else None
    return Matrices(meters, transformers, groups)


def known_days(matrix: DayMatrix) -> tuple[int, date, date] | None:
    """How many local days from the first to the last one with any energy known."""
    known = [d for d in range(matrix.days) if (matrix.kwh[:, d] == matrix.kwh[:, d]).any()]
    if not known:
        return None
    return known[-1] - known[0] + 1, matrix.day(known[0]), matrix.day(known[-1])


def score_models(sample: Matrices, last_day: date) -> FleetScores:
    """Rolling-origin scores of every model over the :data:`TEST_DAYS` up to ``last_day``."""
    plan = RollingOrigin(last_day - timedelta(days=TEST_DAYS - 1), TEST_DAYS)
    naive = rolling_forecasts(sample.meters, SeasonalNaive, plan)
    boosted = rolling_forecasts(sample.meters, GradientBoosted, plan)
    meters = dict(
        zip(
            METER_MODELS,
            scores_against_naive([naive, boosted], sample.meters, plan).values(),
            strict=True,
        )
    )
    transformers: dict[str, Scores] = {}
    if sample.transformers is not None:
        level: list[Evaluation] = [
            rolling_forecasts(sample.transformers, SeasonalNaive, plan),
            rolling_forecasts(sample.transformers, GradientBoosted, plan),
            bottom_up(boosted, sample.meters, sample.groups),
        ]
        scored = scores_against_naive(level, sample.transformers, plan).values()
        transformers = dict(zip(TRANSFORMER_MODELS, scored, strict=True))
    return FleetScores(plan.first_test_day, TEST_DAYS, meters, transformers)
