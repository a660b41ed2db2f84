"""Simulated clocks for the injector: real time, a speed-up factor, or as fast as possible.

The injector asks the clock to wait until a simulated time; the clock maps simulated
time onto wall time. Wall time and sleeping are injectable, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol


class SimClock(Protocol):
    """Waits until a simulated time is due."""

    async def wait_until(self, sim_time: datetime) -> None: ...


class FastClock:
    """Every simulated time is due at once: no waiting at all."""

    async def wait_until(self, sim_time: datetime) -> None:
        return None


class ScaledClock:
    """Simulated time runs ``speedup`` times faster than wall time (1.0: real time).

    ``sim_start`` happens at the wall time of the first wait.
    """

    def __init__(
        self,
        sim_start: datetime,
        speedup: float = 1.0,
        monotonic_s: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if speedup <= 0:
            raise ValueError(f"speedup must be positive, got {speedup}")
        self.sim_start = sim_start
        self.speedup = speedup
        self._monotonic_s = monotonic_s
        self._sleep = sleep
        self._wall_start_s: float | None = None

    def wall_delay_s(self, sim_time: datetime) -> float:
        """Seconds of wall time until ``sim_time`` is due (0 when it already is)."""
        now_s = self._monotonic_s()
        if self._wall_start_s is None:
            self._wall_start_s = now_s
        sim_elapsed_s = (sim_time - self.sim_start).total_seconds()
        return max(0.0, self._wall_start_s + sim_elapsed_s / self.speedup - now_s)

    async def wait_until(self, sim_time: datetime) -> None:
        delay_s = self.wall_delay_s(sim_time)
        if delay_s > 0:
            await self._sleep(delay_s)
