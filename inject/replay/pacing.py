"""Event-time pacing: send each reading when its event time comes, ``speedup`` times faster.

The clock is injected (:class:`Clock`), so tests drive pacing with a fake clock and
never sleep.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

MS_PER_S = 1000.0


class Clock(Protocol):
    """Wall-clock time for pacing: a monotonic reading in seconds and a way to wait."""

    def now_s(self) -> float:
        """Seconds on a monotonic clock."""

    async def sleep_s(self, seconds: float) -> None:
        """Wait ``seconds``."""


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now_s(self) -> float:
        return time.monotonic()

    async def sleep_s(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class EventTimePacer:
    """How long to hold a reading back so event time runs ``speedup`` times real time.

    The first reading anchors event time to the clock; a later reading is due when
    the clock has moved (its event time - the first's) / ``speedup``. A reading whose
    due time has passed (out of order, or the sender fell behind) waits 0 s.
    ``speedup=None`` never waits (``--fast``).
    """

    def __init__(self, speedup: float | None, clock: Clock) -> None:
        if speedup is not None and not speedup > 0:
            raise ValueError(f"speedup must be > 0, got {speedup}")
        self.speedup, self.clock = speedup, clock
        self._anchor: tuple[int, float] | None = None

    def delay_s(self, ts_ms: int) -> float:
        """Seconds to wait before sending a reading with event time ``ts_ms``."""
        if self.speedup is None:
            return 0.0
        now_s = self.clock.now_s()
        if self._anchor is None:
            self._anchor = (ts_ms, now_s)
            return 0.0
        first_ts_ms, first_s = self._anchor
        due_s = first_s + (ts_ms - first_ts_ms) / MS_PER_S / self.speedup
        return max(0.0, due_s - now_s)
