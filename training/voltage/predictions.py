"""Scores of each meter's latest hour (or latest hours: a backfill), the transformer's
(the max of its meters in each hour), and
where they go: Cassandra ``voltage_prediction_latest`` and ``voltage_prediction_by_day``,
InfluxDB ``voltage_prediction`` (tags ``meter_id, transformer_id, model, version``) and
``transformer_voltage_prediction`` (tags ``transformer_id, model, version``), fields
``probability`` (float) and ``predicted`` (int), at the end of the scored hour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from smart_meter.influx_lines import tag
from smart_meter.storage.schema import event_bucket
from training.voltage.labels import HOUR_MS
from training.voltage.registry import SavedModel


def latest_hours(frame: pd.DataFrame, hours: int = 1) -> pd.DataFrame:
    """Each meter's meter-hours within ``hours`` of its newest (1: the newest alone)."""
    newest = frame.groupby("meter_id")["hour_ms"].transform("max")
    recent = frame.loc[frame["hour_ms"] > newest - hours * HOUR_MS]
    latest: pd.DataFrame = recent.sort_values(["hour_ms", "meter_id"]).reset_index(drop=True)
    return latest


def newest(scored: pd.DataFrame) -> pd.DataFrame:
    """Each meter's newest scored hour: what ``voltage_prediction_latest`` keeps."""
    rows: pd.DataFrame = scored.loc[scored.groupby("meter_id")["hour_ms"].idxmax().to_numpy()]
    return rows.reset_index(drop=True)


def score(saved: SavedModel, latest: pd.DataFrame) -> pd.DataFrame:
    """``meter_id, transformer_id, hour_ms, probability, predicted``."""
    probability = saved.model.probabilities(latest)
    scored = latest[["meter_id", "transformer_id", "hour_ms"]].copy()
    scored["probability"] = np.round(probability.astype(float), 6)
    scored["predicted"] = (scored["probability"] >= saved.threshold).astype(int)
    return scored


def by_transformer(scored: pd.DataFrame) -> pd.DataFrame:
    """A transformer's score in an hour is the highest of its meters'."""
    grouped = scored.groupby(["transformer_id", "hour_ms"], as_index=False).agg(
        probability=("probability", "max"), predicted=("predicted", "max"),
    )  # fmt: skip
    return grouped


def _tags(saved: SavedModel) -> str:
    return f"model={tag(saved.name)},version={tag(saved.version)}"


def _fields(probability: float, predicted: int, hour_ms: int) -> str:
    end_ms = int(hour_ms) + HOUR_MS
    return f"probability={float(probability)!r},predicted={int(predicted)}i {end_ms}"


def influx_lines(saved: SavedModel, scored: pd.DataFrame, transformers: pd.DataFrame) -> list[str]:
    """Points at the end of the scored hour (when the prediction could be made)."""
    meters = zip(
        scored["meter_id"].tolist(), scored["transformer_id"].tolist(),
        scored["probability"].tolist(), scored["predicted"].tolist(), scored["hour_ms"].tolist(),
        strict=True,
    )  # fmt: skip
    lines = [
        f"voltage_prediction,meter_id={tag(str(meter))},transformer_id={tag(str(tx))},"
        f"{_tags(saved)} {_fields(p, pred, hour)}"
        for meter, tx, p, pred, hour in meters
    ]
    groups = zip(
        transformers["transformer_id"].tolist(), transformers["probability"].tolist(),
        transformers["predicted"].tolist(), transformers["hour_ms"].tolist(), strict=True,
    )  # fmt: skip
    lines += [
        f"transformer_voltage_prediction,transformer_id={tag(str(tx))},{_tags(saved)} "
        f"{_fields(p, pred, hour)}"
        for tx, p, pred, hour in groups
    ]
    return lines


PREDICTION_COLUMNS = (
    "transformer_id, probability, predicted, threshold, horizon_hours, model, version, "
    "predicted_at, meter_id, hour_ts"
)
INSERT_LATEST = (
    f"INSERT INTO voltage_prediction_latest ({PREDICTION_COLUMNS}) "  # noqa: S608 (constants)
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_HISTORY = (
    f"INSERT INTO voltage_prediction_by_day ({PREDICTION_COLUMNS}, day, bucket) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row_values(
    saved: SavedModel, scored: pd.DataFrame, horizon_hours: int, now: datetime
) -> list[tuple[Any, ...]]:
    """The values of :data:`PREDICTION_COLUMNS`, a tuple per scored meter-hour."""
    rows = zip(
        scored["meter_id"].tolist(), scored["transformer_id"].tolist(),
        scored["probability"].tolist(), scored["predicted"].tolist(), scored["hour_ms"].tolist(),
        strict=True,
    )  # fmt: skip
    return [
        (
            str(tx),
            float(probability),
            int(predicted),
            saved.threshold,
            horizon_hours,
            saved.name,
            saved.version,
            now,
            str(meter),
            datetime.fromtimestamp(int(hour_ms) / 1000, UTC),
        )
        for meter, tx, probability, predicted, hour_ms in rows
    ]


def write_cassandra(
    session: Session, saved: SavedModel, scored: pd.DataFrame, horizon_hours: int, now: datetime
) -> int:
    """Every scored meter-hour kept by day, and each meter's newest in the latest table;
    returns the rows of the history."""
    latest, history = session.prepare(INSERT_LATEST), session.prepare(INSERT_HISTORY)
    by_day = [
        (*values, values[-1].date(), event_bucket(values[-2]))
        for values in _row_values(saved, scored, horizon_hours, now)
    ]
    execute_concurrent_with_args(session, history, by_day, raise_on_first_error=True)
    newest_rows = _row_values(saved, newest(scored), horizon_hours, now)
    execute_concurrent_with_args(session, latest, newest_rows, raise_on_first_error=True)
    return len(scored)
