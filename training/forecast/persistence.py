"""Saving a fitted forecaster with what is needed to trust it later.

A model folder holds ``model.joblib`` (the fitted object) and ``metadata.json``: the
model's name, feature list, training window and parameters, the metrics it was
chosen on, the code version (:func:`training.versioning.code_version`) and the
library versions. Loading checks the saved feature
list against the one the code builds today: a model trained on other features would
read the wrong columns and predict garbage without complaint, so that is an error.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import joblib
import sklearn

from training.forecast.models import MODELS, Forecaster
from training.versioning import code_version

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1


class ModelFolderError(FileNotFoundError):
    """The folder does not hold a saved forecaster."""

    def __init__(self, folder: Path, missing: str) -> None:
        self.folder = folder
        self.missing = missing
        super().__init__(f"no forecast model in {folder}: {missing} is missing")


class FeatureListMismatchError(ValueError):
    """A saved model was trained on other features than the code builds now."""

    def __init__(self, folder: Path, saved: list[str], expected: list[str]) -> None:
        self.folder = folder
        self.saved = saved
        self.expected = expected
        only_saved = [f for f in saved if f not in expected]
        only_expected = [f for f in expected if f not in saved]
        super().__init__(
            f"model in {folder} was trained on other features: saved {saved}, "
            f"expected {expected} (only in saved: {only_saved}; only expected: "
            f"{only_expected}); retrain it with the current code"
        )


def save_model(
    model: Forecaster, folder: Path, metrics: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write ``model`` and its metadata into ``folder`` (created); returns the metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "model": model.name,
        "features": list(model.features),
        "parameters": model.describe(),
        "training_window": model.describe().get("training_window"),
        "metrics": metrics or {},
        "code_version": code_version(),
        "python": platform.python_version(),
        "scikit_learn": sklearn.__version__,
    }
    joblib.dump(model, folder / MODEL_FILE)
    (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def read_metadata(folder: Path) -> dict[str, Any]:
    """The metadata of the model saved in ``folder``."""
    path = folder / METADATA_FILE
    if not path.exists():
        raise ModelFolderError(folder, METADATA_FILE)
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def load_model(folder: Path, features: tuple[str, ...] | None = None) -> Forecaster:
    """The forecaster saved in ``folder``, refused if its features are not ``features``.

    ``features`` defaults to the feature list the current code gives that kind of model.
    """
    meta = read_metadata(folder)
    kind = MODELS.get(meta.get("model", ""))
    if kind is None:
        raise ValueError(f"model in {folder} is of unknown kind {meta.get('model')!r}")
    expected = list(features if features is not None else kind().features)
    if meta["features"] != expected:
        raise FeatureListMismatchError(folder, meta["features"], expected)
    if not (folder / MODEL_FILE).exists():
        raise ModelFolderError(folder, MODEL_FILE)
    model: Forecaster = joblib.load(folder / MODEL_FILE)
    if list(model.features) != expected:
        raise FeatureListMismatchError(folder, list(model.features), expected)
    return model
