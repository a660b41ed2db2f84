"""The labelled meter-hours of a range: features from Spark, labels, baseline, split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame

from training.voltage.features import FULL_FEATURES, feature_frame
from training.voltage.labels import HOUR_MS, event_now, label_hours, qualifying
from training.voltage.split import PARTS, SplitBounds, purged_split


@dataclass(frozen=True)
class Dataset:
    """Rows ``meter_id, transformer_id, hour_ms``, the features, ``label``, ``event_now``
    and ``part``; the split's bounds; how many qualifying events there were."""

    rows: pd.DataFrame
    bounds: SplitBounds
    events: int

    def part(self, name: str) -> pd.DataFrame:
        selected: pd.DataFrame = self.rows.loc[self.rows["part"] == name]
        return selected

    def spans(self) -> dict[str, list[int]]:
        """First and last hour (epoch ms) of each part."""
        return {
            name: [int(self.part(name)["hour_ms"].min()), int(self.part(name)["hour_ms"].max())]
            for name in PARTS
        }

    def positives(self) -> dict[str, int]:
        return {name: int(self.part(name)["label"].sum()) for name in PARTS}


def collect_features(readings: DataFrame, episodes: DataFrame) -> pd.DataFrame:
    """The Spark feature frame, collected and ordered (gaps in temperature read as 0 °C)."""
    frame = feature_frame(readings, episodes).toPandas()
    frame[FULL_FEATURES] = frame[FULL_FEATURES].astype(float).fillna(0.0)
    return frame.sort_values(["hour_ms", "meter_id"], ignore_index=True)


def labelled(
    frame: pd.DataFrame, episodes: pd.DataFrame, horizon_hours: int, min_event_minutes: int
) -> Dataset:
    """Labels and the split; the last ``horizon_hours`` of data are dropped (their
    future is not fully seen yet)."""
    events = qualifying(episodes, min_event_minutes)
    newest_ms = int(frame["hour_ms"].max())
    rows = frame.loc[frame["hour_ms"] + horizon_hours * HOUR_MS <= newest_ms].copy()
    rows["label"] = label_hours(rows, events, horizon_hours)
    rows["event_now"] = event_now(rows, events)
    bounds = purged_split(rows["hour_ms"], horizon_hours)
    rows["part"] = bounds.parts(rows["hour_ms"])
    return Dataset(rows.reset_index(drop=True), bounds, len(events))


def label_array(frame: pd.DataFrame) -> np.ndarray:
    labels: np.ndarray = frame["label"].to_numpy(dtype=np.int64)
    return labels
