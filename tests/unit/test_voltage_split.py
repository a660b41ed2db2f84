"""The purged time split: periods never mix, the horizon before each boundary is dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.voltage.labels import HOUR_MS
from training.voltage.split import PURGED, purged_split

HORIZON_H = 24


def _frame(hours: int, meters: int = 3) -> pd.Series:
    return pd.Series(np.repeat(np.arange(hours) * HOUR_MS, meters))


def test_parts_follow_each_other_in_time_and_never_share_an_hour() -> None:
    hour_ms = _frame(500)
    parts = purged_split(hour_ms, HORIZON_H).parts(hour_ms)
    spans = {p: hour_ms[parts == p] for p in ("train", "valid", "test")}
    assert spans["train"].max() < spans["valid"].min()
    assert spans["valid"].max() < spans["test"].min()
    for part in ("train", "valid", "test"):
        hours_of_part = set(spans[part])
        others = set(hour_ms[(parts != part)])
        assert not hours_of_part & others


def test_the_horizon_before_each_boundary_is_purged() -> None:
    hour_ms = _frame(500, meters=1)
    bounds = purged_split(hour_ms, HORIZON_H)
    parts = bounds.parts(hour_ms)
    for boundary in (bounds.valid_from_ms, bounds.test_from_ms):
        before = (hour_ms < boundary) & (hour_ms >= boundary - HORIZON_H * HOUR_MS)
        assert (parts[before] == PURGED).all() and before.sum() == HORIZON_H
        # the last kept training (or validation) hour's label window ends at the boundary
        kept = hour_ms[(hour_ms < boundary) & (parts != PURGED)].max()
        assert kept + HOUR_MS + HORIZON_H * HOUR_MS <= boundary


def test_shares_are_about_sixty_twenty_twenty_by_hour() -> None:
    hour_ms = _frame(1000)
    parts = purged_split(hour_ms, HORIZON_H).parts(hour_ms)
    counts = pd.Series(parts).value_counts() / 3
    assert counts["test"] == 200
    assert counts["valid"] + HORIZON_H == 200
    assert counts["train"] + HORIZON_H == 600


def test_too_few_hours_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="too few"):
        purged_split(pd.Series([0, HOUR_MS]), HORIZON_H)
