"""Transformers going dark: scheduled ahead, and the same in every injector replica.

Whether transformer ``T`` goes dark at interval ``t`` is a hash of (seed, T, t's event
time), so replicas that each own some of ``T``'s meters black out the same period. The
schedule is decided ``horizon_intervals`` ahead, so meter faults can keep clear of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

Window = tuple[int, int]  # steps [first, end)


def _uniforms(seed: int, transformer_id: str, slot: datetime) -> tuple[float, float]:
    key = f"{seed}|{transformer_id}|{int(slot.timestamp() * 1000)}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    scale = float(2**32)
    return int.from_bytes(digest[:4]) / scale, int.from_bytes(digest[4:]) / scale


class DarkSchedule:
    """Dark windows per transformer, in injector steps."""

    def __init__(
        self,
        rate: float,
        dark_intervals: tuple[int, int],
        horizon_intervals: int,
        seed: int,
        interval_s: int,
    ) -> None:
        self.rate = rate
        self.dark_intervals = dark_intervals
        self.horizon_intervals = horizon_intervals
        self.seed = seed
        self.interval = timedelta(seconds=interval_s)
        self._windows: dict[str, list[Window]] = {}
        self._planned_until = -1

    def plan(self, step: int, when: datetime, transformers: Iterable[str]) -> None:
        """Decide every step up to ``step + horizon_intervals`` for these transformers."""
        for transformer_id in transformers:
            self._windows.setdefault(transformer_id, [])
        last = step + self.horizon_intervals
        if self.rate > 0:
            for planned in range(max(self._planned_until + 1, step), last + 1):
                slot = when + (planned - step) * self.interval
                for transformer_id, windows in self._windows.items():
                    self._decide(transformer_id, windows, planned, slot)
        self._planned_until = last
        self._forget_before(step)

    def _decide(
        self, transformer_id: str, windows: list[Window], step: int, slot: datetime
    ) -> None:
        if windows and windows[-1][1] > step:
            return
        starts, length = _uniforms(self.seed, transformer_id, slot)
        if starts < self.rate:
            low, high = self.dark_intervals
            windows.append((step, step + low + int(length * (high - low + 1))))

    def _forget_before(self, step: int) -> None:
        for windows in self._windows.values():
            while windows and windows[0][1] <= step:
                windows.pop(0)

    def window_at(self, transformer_id: str | None, step: int) -> Window | None:
        """The dark window that covers ``step``, if any."""
        if transformer_id is None:
            return None
        for first, end in self._windows.get(transformer_id, ()):
            if first <= step < end:
                return first, end
        return None

    def overlaps(self, transformer_id: str | None, first: int, end: int) -> bool:
        """Whether any dark window meets steps ``[first, end)``."""
        if transformer_id is None:
            return False
        windows = self._windows.get(transformer_id, ())
        return any(low < end and first < high for low, high in windows)
