"""Versioned model folders: ``<model_dir>/voltage/<version>/<model>/`` holding the model
and its ``card.json`` (metrics, features, threshold, training window, event definition,
code version), the run's ``report-<version>.md`` beside them, and
``<model_dir>/voltage/chosen.json`` naming the model predictions use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from training.errors import FeatureSetMismatchError, NoModelError
from training.voltage.models import BoostedTrees, Classifier, SparkMlp

TRAIN_COMMAND = "python -m training voltage --from DAY --to DAY"


@dataclass(frozen=True)
class SavedModel:
    """A loaded model, its card and its folder."""

    model: Classifier
    card: dict[str, Any]
    folder: Path

    @property
    def name(self) -> str:
        return str(self.card["model"])

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def threshold(self) -> float:
        return float(self.card["threshold"])


def voltage_dir(model_dir: Path) -> Path:
    return model_dir / "voltage"


def save_model(model: Classifier, folder: Path, card: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder)
    (folder / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")


def choose(model_dir: Path, version: str, name: str) -> Path:
    """Record ``name`` of ``version`` as the model predictions use."""
    chosen = voltage_dir(model_dir) / "chosen.json"
    chosen.write_text(json.dumps({"version": version, "model": name}, indent=2) + "\n")
    return chosen


def load_model(spark: SparkSession, folder: Path, features: list[str]) -> SavedModel:
    """The model in ``folder``; :class:`FeatureSetMismatchError` unless it was trained on
    exactly ``features`` (same names, same order)."""
    card = json.loads((folder / "card.json").read_text())
    if list(card["features"]) != list(features):
        raise FeatureSetMismatchError(
            f"{card['model']} {card['version']}", card["features"], features
        )
    model: Classifier
    if card["kind"] == "gradient_boosted_trees":
        model = BoostedTrees.load(features, folder)
    else:
        model = SparkMlp.load(spark, features, folder)
    return SavedModel(model, card, folder)


def chosen_folder(model_dir: Path) -> Path:
    """The folder of the chosen model; :class:`NoModelError` when none was trained."""
    chosen = voltage_dir(model_dir) / "chosen.json"
    if not chosen.is_file():
        raise NoModelError("voltage-event", voltage_dir(model_dir), TRAIN_COMMAND)
    record = json.loads(chosen.read_text())
    folder = voltage_dir(model_dir) / str(record["version"]) / str(record["model"])
    if not (folder / "card.json").is_file():
        raise NoModelError("voltage-event", folder, TRAIN_COMMAND)
    return folder
