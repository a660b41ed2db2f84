"""The classifiers compared: the seed's Spark MLP (seed features), the same MLP on every
feature, and scikit-learn gradient-boosted trees.

Events are rare, so the MLPs train on the positives repeated until the classes are about
even, and the trees weigh each class by the inverse of its frequency. Each model says a
probability of an event in the horizon; its threshold is chosen later, on validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
import pandas as pd
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import MultilayerPerceptronClassifier
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812
from sklearn.ensemble import HistGradientBoostingClassifier

MAX_REPEAT = 10


class Classifier(Protocol):
    """What the job needs of a trained model."""

    kind: str
    features: list[str]

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


def repeat_positives(labels: np.ndarray) -> int:
    """How many copies of each positive row bring the classes about even."""
    positives = max(int(labels.sum()), 1)
    return int(min(MAX_REPEAT, max(1, round((len(labels) - positives) / positives))))


@dataclass
class SparkMlp:
    """``VectorAssembler`` → ``StandardScaler`` → ``MultilayerPerceptronClassifier``."""

    spark: SparkSession
    features: list[str]
    model: PipelineModel | None = None
    kind: str = "spark_mlp"

    def fit(self, train: pd.DataFrame, seed: int, max_iter: int = 40) -> SparkMlp:
        copies = repeat_positives(train["label"].to_numpy())
        rows = self.spark.createDataFrame(train[[*self.features, "label"]])
        rows = rows.withColumn(
            "copies", F.when(F.col("label") == 1, F.lit(copies)).otherwise(F.lit(1))
        ).withColumn("copy", F.explode(F.sequence(F.lit(1), F.col("copies"))))
        width = len(self.features)
        pipeline = Pipeline(
            stages=[
                VectorAssembler(inputCols=self.features, outputCol="raw", handleInvalid="keep"),
                StandardScaler(inputCol="raw", outputCol="features", withMean=True),
                MultilayerPerceptronClassifier(
                    layers=[width, max(8, width), 8, 2], maxIter=max_iter, seed=seed,
                    labelCol="label", featuresCol="features", blockSize=256,
                ),
            ]
        )  # fmt: skip
        self.model = pipeline.fit(rows.withColumn("label", F.col("label").cast("double")))
        return self

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the MLP is not trained")
        rows = self.spark.createDataFrame(frame[self.features].reset_index(drop=True))
        rows = rows.withColumn("row", F.monotonically_increasing_id())
        scored = self.model.transform(rows).select(
            "row", vector_to_array(F.col("probability"))[1].alias("p")
        )
        ordered = scored.orderBy("row").toPandas()
        return ordered["p"].to_numpy(dtype=float)

    def save(self, folder: Path) -> None:
        if self.model is None:
            raise RuntimeError("the MLP is not trained")
        self.model.write().overwrite().save(str(folder / "spark_model"))

    @classmethod
    def load(cls, spark: SparkSession, features: list[str], folder: Path) -> SparkMlp:
        return cls(spark, features, PipelineModel.load(str(folder / "spark_model")))


@dataclass
class BoostedTrees:
    """``HistGradientBoostingClassifier`` with class weights."""

    features: list[str]
    model: HistGradientBoostingClassifier | None = None
    kind: str = "gradient_boosted_trees"

    def fit(self, train: pd.DataFrame, seed: int) -> BoostedTrees:
        labels = train["label"].to_numpy()
        positive_weight = (len(labels) - labels.sum()) / max(labels.sum(), 1)
        weights = np.where(labels == 1, positive_weight, 1.0)
        self.model = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.05, max_leaf_nodes=31, l2_regularization=1.0,
            early_stopping=False, random_state=seed,
        )  # fmt: skip
        self.model.fit(train[self.features].to_numpy(dtype=float), labels, sample_weight=weights)
        return self

    def probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("the trees are not trained")
        proba: np.ndarray = self.model.predict_proba(frame[self.features].to_numpy(dtype=float))
        return proba[:, 1]

    def save(self, folder: Path) -> None:
        joblib.dump(self.model, folder / "model.joblib")

    @classmethod
    def load(cls, features: list[str], folder: Path) -> BoostedTrees:
        return cls(features, joblib.load(folder / "model.joblib"))
