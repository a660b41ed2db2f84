"""No feature of day D reads energy of D or later; rolling origin never trains on a test day."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import pytest

from training.forecast import (
    FEATURES,
    DayMatrix,
    RollingOrigin,
    SeasonalNaive,
    feature_frame,
    forecast_next_day,
    rolling_forecasts,
)

CUT = date(2024, 2, 1)


def random_frame(days: int = 45, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2024-01-01", periods=days * 48, freq="30min", tz="UTC")
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "series_id": s,
                    "ts": ts,
                    "kwh": rng.gamma(2.0, 0.2, len(ts)),
                    "temperature_c": rng.normal(8, 3, len(ts)),
                }
            )
            for s in ("A", "B", "C")
        ],
        ignore_index=True,
    )


def perturbed_from(frame: pd.DataFrame, day: date, column: str) -> pd.DataFrame:
    changed = frame.copy()
    late = changed["ts"] >= pd.Timestamp(day, tz="UTC")
    changed.loc[late, column] = changed.loc[late, column] * 3 + 1
    return changed


def features_through(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    matrix = DayMatrix.from_frame(frame, "UTC")
    table = feature_frame(matrix, np.arange(matrix.position(day) + 1))
    return table[list(FEATURES)]


def test_features_up_to_day_d_ignore_energy_from_day_d_on() -> None:
    frame = random_frame()
    before = features_through(frame, CUT)
    after = features_through(perturbed_from(frame, CUT, "kwh"), CUT)
    pd.testing.assert_frame_equal(before, after)
    later = features_through(perturbed_from(frame, CUT, "kwh"), date(2024, 2, 2))
    assert not later.tail(3 * 48).equals(features_through(frame, date(2024, 2, 2)).tail(3 * 48))


def test_features_up_to_day_d_ignore_temperature_after_day_d() -> None:
    frame = random_frame()
    after = perturbed_from(frame, date(2024, 2, 2), "temperature_c")
    pd.testing.assert_frame_equal(features_through(frame, CUT), features_through(after, CUT))


def test_forecast_of_a_day_ignores_rows_on_and_after_it() -> None:
    frame = random_frame()
    model = SeasonalNaive()
    plain = forecast_next_day(model, frame, CUT, "UTC")
    changed = forecast_next_day(model, perturbed_from(frame, CUT, "kwh"), CUT, "UTC")
    pd.testing.assert_frame_equal(plain, changed)
    assert len(plain) == 3 * 48


class SpyModel:
    """Records what each fit and predict saw."""

    name: ClassVar[str] = "spy"
    features: tuple[str, ...] = ()
    seen_by_fit: ClassVar[list[tuple[date, int]]] = []
    seen_by_predict: ClassVar[list[DayMatrix]] = []

    def fit(self, history: DayMatrix) -> Self:
        self.seen_by_fit.append((history.day(history.days - 1), history.days))
        return self

    def predict(self, known: DayMatrix) -> np.ndarray:
        self.seen_by_predict.append(known)
        return np.zeros((len(known.series_ids), 48))

    def describe(self) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize("retrain_every_days", [1, 3, 7])
def test_rolling_origin_never_fits_on_the_day_it_forecasts_or_later(
    retrain_every_days: int,
) -> None:
    SpyModel.seen_by_fit.clear()
    SpyModel.seen_by_predict.clear()
    matrix = DayMatrix.from_frame(random_frame(), "UTC")
    plan = RollingOrigin.last_days(matrix, 10, retrain_every_days)
    evaluation = rolling_forecasts(matrix, SpyModel, plan)
    assert evaluation.fits == plan.days[::retrain_every_days]
    for fit_day, (last_seen, _) in zip(evaluation.fits, SpyModel.seen_by_fit, strict=True):
        assert last_seen < fit_day
    for day, known in zip(plan.days, SpyModel.seen_by_predict, strict=True):
        assert known.day(known.days - 1) == day
        assert np.isnan(known.kwh[:, -1]).all()
        np.testing.assert_array_equal(known.kwh[:, :-1], matrix.before(day).kwh)
