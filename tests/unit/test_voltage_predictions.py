"""Which meter-hours ``predict-voltage`` scores, and how a transformer's score is made."""

from __future__ import annotations

import pandas as pd

from training.voltage.labels import HOUR_MS
from training.voltage.predictions import by_transformer, latest_hours, newest


def _frame() -> pd.DataFrame:
    """Two meters on one transformer; meter b's data stops two hours before meter a's."""
    rows = [("a", "t1", h * HOUR_MS) for h in range(10)]
    rows += [("b", "t1", h * HOUR_MS) for h in range(8)]
    frame = pd.DataFrame(rows, columns=["meter_id", "transformer_id", "hour_ms"])
    frame["probability"] = [h / 100 for h in range(10)] + [0.5] * 7 + [0.9]
    frame["predicted"] = (frame["probability"] >= 0.5).astype(int)
    return frame


def test_one_hour_is_each_meters_own_newest() -> None:
    latest = latest_hours(_frame())
    assert list(zip(latest["meter_id"], latest["hour_ms"] // HOUR_MS, strict=True)) == [
        ("b", 7),
        ("a", 9),
    ]


def test_a_backfill_takes_each_meters_last_hours_in_time_order() -> None:
    latest = latest_hours(_frame(), hours=3)
    assert sorted(latest.loc[latest["meter_id"] == "a", "hour_ms"] // HOUR_MS) == [7, 8, 9]
    assert sorted(latest.loc[latest["meter_id"] == "b", "hour_ms"] // HOUR_MS) == [5, 6, 7]
    assert list(latest["hour_ms"]) == sorted(latest["hour_ms"])


def test_the_latest_table_keeps_each_meters_newest_hour() -> None:
    kept = newest(latest_hours(_frame(), hours=3)).set_index("meter_id")
    assert kept.loc["a", "hour_ms"] == 9 * HOUR_MS
    assert kept.loc["b", "hour_ms"] == 7 * HOUR_MS


def test_a_transformers_score_in_an_hour_is_its_highest_meters() -> None:
    grouped = by_transformer(latest_hours(_frame(), hours=3)).set_index("hour_ms")
    assert list(grouped.index // HOUR_MS) == [5, 6, 7, 8, 9]
    assert grouped.loc[7 * HOUR_MS, "probability"] == 0.9  # meter b's, above a's 0.07
    assert grouped.loc[7 * HOUR_MS, "predicted"] == 1
    assert grouped.loc[9 * HOUR_MS, "probability"] == 0.09  # meter a alone
