"""A saved model reloads and predicts the same; a model on other features is refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.forecast import (
    FEATURES,
    DayMatrix,
    FeatureListMismatchError,
    GradientBoosted,
    ModelFolderError,
    ModelNotFittedError,
    forecast_next_day,
    load_model,
    read_metadata,
    save_model,
)


def small_frame(days: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ts = pd.date_range("2024-01-01", periods=days * 48, freq="30min", tz="UTC")
    shape = 1 + np.sin(2 * np.pi * np.arange(len(ts)) / 48)
    return pd.concat(
        [
            pd.DataFrame(
                {"series_id": s, "ts": ts, "kwh": level * shape * rng.lognormal(0, 0.2, len(ts))}
            )
            for s, level in (("A", 0.2), ("B", 0.5), ("C", 1.0))
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[GradientBoosted, pd.DataFrame]:
    frame = small_frame()
    model = GradientBoosted(max_iter=30).fit(
        DayMatrix.from_frame(frame, "UTC").before(date(2024, 1, 29))
    )
    return model, frame


def test_saved_model_reloads_and_predicts_the_same(
    fitted: tuple[GradientBoosted, pd.DataFrame], tmp_path: Path
) -> None:
    model, frame = fitted
    meta = save_model(model, tmp_path / "m", metrics={"mase": 0.7})
    loaded = load_model(tmp_path / "m")
    day = date(2024, 1, 29)
    pd.testing.assert_frame_equal(
        forecast_next_day(model, frame, day, "UTC"), forecast_next_day(loaded, frame, day, "UTC")
    )
    assert meta == read_metadata(tmp_path / "m")
    assert meta["features"] == list(FEATURES)
    assert meta["training_window"] == ["2024-01-08", "2024-01-28"]
    assert meta["metrics"] == {"mase": 0.7}
    assert meta["code_version"]


def test_loading_with_another_feature_list_is_refused(
    fitted: tuple[GradientBoosted, pd.DataFrame], tmp_path: Path
) -> None:
    save_model(fitted[0], tmp_path)
    with pytest.raises(FeatureListMismatchError, match="only expected: \\['humidity'\\]"):
        load_model(tmp_path, features=(*FEATURES, "humidity"))


def test_a_model_saved_with_other_features_than_the_code_builds_is_refused(
    fitted: tuple[GradientBoosted, pd.DataFrame], tmp_path: Path
) -> None:
    save_model(fitted[0], tmp_path)
    meta = json.loads((tmp_path / "metadata.json").read_text())
    meta["features"] = meta["features"][:-1]
    (tmp_path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(FeatureListMismatchError) as refused:
        load_model(tmp_path)
    assert refused.value.saved == list(FEATURES[:-1])


def test_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match=r"metadata\.json is missing"):
        load_model(tmp_path)


def test_an_unfitted_model_does_not_predict() -> None:
    matrix = DayMatrix.from_frame(small_frame(10), "UTC")
    with pytest.raises(ModelNotFittedError):
        GradientBoosted().predict(matrix.known_before(date(2024, 1, 10)))
