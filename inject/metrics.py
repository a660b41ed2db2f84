"""The injector's own metrics: readings published per wall-clock second, per replica.

One InfluxDB point per second in which the replica had readings acknowledged by
JetStream (``precision=s``), so the Load Test dashboard can set what the injectors
sent against what the streaming app stored::

    injector,replica=<i> readings=<n>i <second>

Each second is written once, after it has ended. A point is keyed by replica and second,
so writing it again (a retry) replaces it with the same figure; a wall clock stepping
back into a second already written would replace that second's count, not add to it.
InfluxDB being down never stops a load test: the failure is reported once on stderr,
the points of that second are counted as dropped, and the run goes on.
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

MEASUREMENT = "injector"


@dataclass(frozen=True)
class MetricsTarget:
    """Where the points go: an InfluxDB 1.x (v1 API) and a database on it."""

    url: str
    database: str


class InjectorMetrics:
    """Counts published readings into wall-clock seconds and writes each finished second."""

    def __init__(
        self,
        target: MetricsTarget,
        replica: int,
        *,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 5.0,
    ) -> None:
        self.target = target
        self.replica = replica
        self.clock = clock
        self.timeout_s = timeout_s
        self.second: int | None = None
        self.readings = 0
        self.points_written = 0
        self.points_dropped = 0
        self._database_ready = False
        self._warned = False

    def line(self, second: int, readings: int) -> str:
        return f"{MEASUREMENT},replica={self.replica} readings={readings}i {second}"

    async def published(self, readings: int) -> None:
        """``readings`` more were acknowledged now; write the previous second once it ended."""
        now_s = int(self.clock())
        if self.second is not None and now_s != self.second:
            await self.flush()
        if readings:
            self.second = now_s
            self.readings += readings

    async def flush(self) -> None:
        """Write the second in hand, if any."""
        if self.second is None or not self.readings:
            self.second = None
            return
        body = self.line(self.second, self.readings).encode()
        self.second, self.readings = None, 0
        if await asyncio.to_thread(self._write, body):
            self.points_written += 1
        else:
            self.points_dropped += 1

    def _write(self, body: bytes) -> bool:
        try:
            if not self._database_ready:
                self._post("/query", urllib.parse.urlencode({"q": self._create()}).encode())
                self._database_ready = True
            query = urllib.parse.urlencode({"db": self.target.database, "precision": "s"})
            self._post(f"/write?{query}", body)
        except (OSError, urllib.error.HTTPError) as error:
            if not self._warned:
                where = self.target.url
                print(f"injector metrics: not written to {where} ({error})", file=sys.stderr)
                self._warned = True
            return False
        return True

    def _create(self) -> str:
        return f'CREATE DATABASE "{self.target.database}"'

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.target.url.rstrip('/')}{path}", data=body)
        with urllib.request.urlopen(request, timeout=self.timeout_s):
            pass
