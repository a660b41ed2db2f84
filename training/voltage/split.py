"""The purged time split: train, validation and test by hour, never at random.

Hours are ordered; the first 60 % train, the next 20 % validate, the last 20 % test. A
label looks ``N`` hours ahead, so the ``N`` hours before each boundary would carry
labels from the next part: they are dropped (``purged``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.voltage.labels import HOUR_MS

PARTS = ("train", "valid", "test")
PURGED = "purged"


@dataclass(frozen=True)
class SplitBounds:
    """Where validation and test begin (epoch ms of an hour), and the hours purged."""

    valid_from_ms: int
    test_from_ms: int
    purge_hours: int

    def parts(self, hour_ms: pd.Series) -> np.ndarray:
        """The part of each row: ``train``, ``valid``, ``test`` or ``purged``."""
        hours = hour_ms.to_numpy(dtype=np.int64)
        purge_ms = self.purge_hours * HOUR_MS
        part = np.where(
            hours >= self.test_from_ms,
            "test",
            np.where(hours >= self.valid_from_ms, "valid", "train"),
        ).astype(object)
        for boundary in (self.valid_from_ms, self.test_from_ms):
            part[(hours < boundary) & (hours > boundary - purge_ms - HOUR_MS)] = PURGED
        return part


def purged_split(
    hour_ms: pd.Series, purge_hours: int, shares: tuple[float, float] = (0.6, 0.8)
) -> SplitBounds:
    """Boundaries at ``shares`` of the distinct hours (cumulative: 60 % and 80 %)."""
    hours = np.unique(hour_ms.to_numpy(dtype=np.int64))
    if len(hours) < 3:
        raise ValueError(f"only {len(hours)} distinct hours: too few to split in three")
    valid_at = hours[int(len(hours) * shares[0])]
    test_at = hours[int(len(hours) * shares[1])]
    return SplitBounds(int(valid_at), int(test_at), purge_hours)
