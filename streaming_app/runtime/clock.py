"""Processing time for the runtime: a monotonic reading and a wait that an event can cut short.

The :class:`Committer` times its back-off and its ``give_up_s`` limit on a :class:`Clock`
it is given, so tests drive it with :class:`streaming_app.runtime.testing.FakeClock` and
never wait in real time.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds, and a way to wait for an event with a timeout."""

    def now_s(self) -> float:
        """Seconds on a monotonic clock (only differences mean anything)."""
        ...

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        """Return when ``event`` is set (``True``) or ``timeout_s`` has passed (``False``)."""
        ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.wait_for``."""

    def now_s(self) -> float:
        return time.monotonic()

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)
        return event.is_set()


REAL_CLOCK: Clock = MonotonicClock()
