"""The pandas sides of the forecast job: half-hours per transformer, the sample, the
version, and the next day's forecast per group (no Spark, no servers)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from training.forecast import Scores
from training.forecast_spark.fitting import ChosenModels, fit_chosen, version_of
from training.forecast_spark.half_hours import NO_TRANSFORMER, transformer_half_hours
from training.forecast_spark.predict import NextDay
from training.forecast_spark.scoring import (
    BOTTOM_UP,
    best,
    known_days,
    matrices,
    sample_transformers,
    score_models,
)

FIRST = pd.Timestamp("2024-01-01")  # naive UTC, as Spark hands timestamps over
DAYS = 28
LAST = date(2024, 1, 28)


def half_hours(meters: int = 6, per_transformer: int = 3, seed: int = 0) -> pd.DataFrame:
    """A daily and weekly pattern with noise, per meter, naive UTC half-hours."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(FIRST, periods=DAYS * 48, freq="30min")
    slot = np.arange(len(ts)) % 48
    weekday = ts.weekday.to_numpy()
    parts = []
    for m in range(meters):
        base = 0.2 + 0.3 * np.exp(-(((slot - 38) / 4) ** 2)) + 0.05 * (weekday >= 5)
        kwh = base * (1 + m / 10) * rng.lognormal(0, 0.2, len(ts))
        parts.append(
            pd.DataFrame(
                {
                    "meter_id": f"M{m}",
                    "transformer_id": f"T{m // per_transformer}",
                    "ts": ts,
                    "kwh": kwh,
                    "temperature_c": 5.0,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_registers_become_half_hours_of_each_meter_with_its_transformer() -> None:
    ts = pd.date_range("2024-01-01 00:00", periods=5, freq="30min")
    readings = pd.DataFrame(
        {
            "meter_id": ["A"] * 5 + ["B"] * 5,
            "transformer_id": ["T1"] * 5 + [None] * 5,
            "ts": list(ts) * 2,
            "import_wh": [0, 100, 300, 600, 1000, 50, 50, 60, 70, 80],
            "temperature_c": [4.0] * 10,
        }
    )
    out = transformer_half_hours(readings)
    a = out[out["meter_id"] == "A"]
    assert a["kwh"].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert a["ts"].dt.tz is None and a["ts"].iloc[0] == ts[0]
    assert set(out.loc[out["meter_id"] == "B", "transformer_id"]) == {NO_TRANSFORMER}


def test_the_sample_is_the_same_transformers_every_run_and_bounded() -> None:
    names = [f"T{i:04d}" for i in range(500)]
    first = sample_transformers(names, 200)
    assert len(first) == 200
    assert sample_transformers(list(reversed(names)), 200) == first
    assert sample_transformers(names[:10], 200) == sorted(names[:10])


def test_an_unknown_mase_never_wins() -> None:
    def scores(mase: float) -> Scores:
        return Scores(mase, 1.0, 0.1, 0.0, 0.0, 1, 1, 0)

    assert best({"a": scores(math.nan), "b": scores(0.9), "c": scores(1.1)}) == "b"


def test_history_counts_local_days_with_energy() -> None:
    sample = matrices(half_hours(), "UTC", LAST)
    assert known_days(sample.meters) == (DAYS, date(2024, 1, 1), LAST)


def test_the_version_follows_the_data_and_nothing_else() -> None:
    frame = half_hours()
    sample = matrices(frame, "UTC", LAST)
    again = matrices(frame.sample(frac=1.0, random_state=1), "UTC", LAST)
    version = version_of(sample, LAST, "gradient_boosted", BOTTOM_UP)
    assert version.startswith("20240128-")
    assert version_of(again, LAST, "gradient_boosted", BOTTOM_UP) == version
    changed = frame.copy()
    changed["kwh"] = changed["kwh"].where(changed.index != 100, changed["kwh"] + 0.001)
    assert (
        version_of(matrices(changed, "UTC", LAST), LAST, "gradient_boosted", BOTTOM_UP) != version
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, ChosenModels]:
    frame = half_hours()
    sample = matrices(frame, "UTC", LAST)
    with threadpool_limits(limits=1):
        return frame, fit_chosen(sample, score_models(sample, LAST), LAST)


def test_the_next_day_has_every_half_hour_of_every_meter_and_transformer(
    fitted: tuple[pd.DataFrame, ChosenModels],
) -> None:
    frame, chosen = fitted
    next_day = NextDay(chosen, LAST + timedelta(days=1), "UTC")
    out = pd.concat([next_day(group) for _, group in frame.groupby("transformer_id")])
    per_series = out.groupby(["series", "series_id"]).size()
    assert per_series.to_dict() == {
        **{("meter", f"M{m}"): 48 for m in range(6)},
        **{("transformer", f"T{t}"): 48 for t in range(2)},
    }
    assert out["ts"].min() == pd.Timestamp("2024-01-29") and (out["kwh"] >= 0).all()
    assert set(out["version"]) == {chosen.version}
    if chosen.transformer is None:  # bottom-up: the sum of its meters' forecasts
        meters = out[(out["series"] == "meter") & out["series_id"].isin(["M0", "M1", "M2"])]
        summed = meters.groupby("ts")["kwh"].sum().to_numpy()
        transformer = out[out["series_id"] == "T0"].sort_values("ts")["kwh"].to_numpy()
        assert transformer == pytest.approx(summed)


def test_the_day_clocks_go_forward_has_46_half_hours(
    fitted: tuple[pd.DataFrame, ChosenModels],
) -> None:
    frame, chosen = fitted
    march = frame.assign(ts=frame["ts"] + pd.Timedelta(days=62))  # up to 2024-03-30
    one = march[march["transformer_id"] == "T0"]
    out = NextDay(chosen, date(2024, 3, 31), "Europe/London")(one)
    assert out.groupby("series_id").size().to_dict() == {"M0": 46, "M1": 46, "M2": 46, "T0": 46}
    assert out["ts"].min() == pd.Timestamp("2024-03-31 00:00")
    assert out["ts"].max() == pd.Timestamp("2024-03-31 22:30")  # 23:30 BST
