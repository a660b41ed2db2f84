"""A stop request, and how long the work in flight may still take after it."""

from __future__ import annotations

import asyncio
import time


class Shutdown:
    """Set by SIGTERM (or a test); loops finish their batch, or give up after ``grace_s``."""

    def __init__(self, grace_s: float = 10.0) -> None:
        self.grace_s = grace_s
        self.event = asyncio.Event()
        self._since_s: float | None = None

    def request(self) -> None:
        """Ask the loops to stop after the batch in flight (idempotent)."""
        if self._since_s is None:
            self._since_s = time.monotonic()
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def grace_over(self) -> bool:
        """True once a stop was requested ``grace_s`` ago: stop waiting, leave it un-acked."""
        return self._since_s is not None and time.monotonic() - self._since_s >= self.grace_s
