"""Train the three classifiers, set each threshold on validation, score them on test
beside the baselines, and choose by validation F1."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import SparkSession

from training.voltage.dataset import Dataset, label_array
from training.voltage.features import FULL_FEATURES, SEED_FEATURES
from training.voltage.metrics import best_threshold, scores
from training.voltage.models import BoostedTrees, Classifier, SparkMlp

SEED_MLP, FULL_MLP, TREES = "seed_mlp", "full_mlp", "gradient_boosted_trees"
PERSISTENCE = "persistence"
MODEL_FEATURES = {SEED_MLP: SEED_FEATURES, FULL_MLP: FULL_FEATURES, TREES: FULL_FEATURES}
"""The features each model is trained on, as the code builds them now."""


@dataclass
class Trained:
    """A model, its threshold, and its scores on validation and test."""

    name: str
    model: Classifier
    threshold: float
    valid: dict[str, float]
    test: dict[str, float]


@dataclass
class Comparison:
    trained: dict[str, Trained] = field(default_factory=dict)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    chosen: str = ""

    def test_table(self) -> dict[str, dict[str, float]]:
        """Test scores of the baselines and every model (the seed MLP is both)."""
        table = {PERSISTENCE: self.baselines[PERSISTENCE]}
        table.update({name: t.test for name, t in self.trained.items()})
        table["always_no_event"] = self.baselines["always_no_event"]
        return table


def _builders(spark: SparkSession, seed: int) -> dict[str, Callable[[Dataset], Classifier]]:
    return {
        SEED_MLP: lambda d: SparkMlp(spark, SEED_FEATURES).fit(d.part("train"), seed),
        FULL_MLP: lambda d: SparkMlp(spark, FULL_FEATURES).fit(d.part("train"), seed),
        TREES: lambda d: BoostedTrees(FULL_FEATURES).fit(d.part("train"), seed),
    }


def train_and_compare(
    spark: SparkSession, data: Dataset, seed: int, say: Callable[[str], None]
) -> Comparison:
    valid, test = data.part("valid"), data.part("test")
    result = Comparison()
    for name, build in _builders(spark, seed).items():
        say(f"training {name}")
        model = build(data)
        valid_p, test_p = model.probabilities(valid), model.probabilities(test)
        threshold = best_threshold(label_array(valid), valid_p)
        result.trained[name] = Trained(
            name, model, threshold,
            scores(label_array(valid), valid_p, threshold),
            scores(label_array(test), test_p, threshold),
        )  # fmt: skip
    now = test["event_now"].to_numpy(dtype=float)
    result.baselines[PERSISTENCE] = scores(label_array(test), now, 0.5)
    result.baselines["always_no_event"] = scores(label_array(test), np.zeros(len(test)), 0.5)
    result.chosen = max(result.trained.values(), key=lambda t: t.valid["f1"]).name
    return result
