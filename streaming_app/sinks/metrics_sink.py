"""The metrics sink: per-minute pipeline and quality metrics to InfluxDB (v1 ``/write``).

Line protocol over the v1 HTTP API with the standard library, in a worker thread: the
points are a few dozen lines per batch, the database is created with one InfluxQL statement,
and every failure surfaces right here (the ``influxdb-client`` write API batches in a
background thread of its own and would report failures after the batch was acked).
Grafana reads the same server with InfluxQL.

Schema (one point per minute, partition and app instance; time = the minute of
processing time, plus a per-instance offset under a second so that two instances that
handled one partition in the same minute keep separate points):

============  =====================  ==================================================
measurement   tags                   fields
============  =====================  ==================================================
pipeline      partition, status      count (readings by verdict; ``dead_letter`` too)
rules         partition, rule        failures (readings that failed the rule)
dead_letters  partition, reason,     count (input refused: ``reason`` is the
              field                  :class:`~smart_meter.codec.ReadingErrorKind`,
                                     ``field`` the top-level field of the message, or
                                     ``(other)``)
throughput    partition              readings, stored, batches, dead_letters, late,
                                     too_late
lag           partition              p50_ms, p99_ms, max_ms, count: ingest lag, pull
                                     time minus event time
latency       partition              p50_ms, p99_ms, max_ms, count: JetStream publish
                                     to processed
completeness  partition              received (stored readings), missing (intervals of
                                     gaps found), ratio
============  =====================  ==================================================

Tags stay low-cardinality: partitions (16 by default), statuses, rule ids, error kinds,
the fields of the message format (never a name the input made up). Completeness
per meter would be one series per meter (36 million for Great Britain): it is computed
per meter-day from Cassandra by the batch jobs; here it is per partition and minute.
Percentiles are per partition and minute; across partitions, take ``max``.

Example InfluxQL (Grafana adds ``WHERE $timeFilter``; the tests run these)::

    SELECT sum("count") FROM "pipeline" WHERE time > now() - 1h GROUP BY time(1m), "status"
    SELECT sum("failures") FROM "rules" WHERE time > now() - 1h GROUP BY time(1m), "rule"
    SELECT sum("count") FROM "dead_letters" WHERE time > now() - 1h GROUP BY time(1m), "reason"
    SELECT sum("readings") / 60 FROM "throughput" WHERE time > now() - 1h GROUP BY time(1m)
    SELECT max("p50_ms"), max("max_ms") FROM "lag" WHERE time > now() - 1h GROUP BY time(1m)
    SELECT max("p99_ms") FROM "latency" WHERE time > now() - 1h GROUP BY time(1m), "partition"
    SELECT sum("received") / (sum("received") + sum("missing")) FROM "completeness"
        WHERE time > now() - 1d GROUP BY time(1h)
"""

from __future__ import annotations

import asyncio
import http.client
import random
import urllib.error
import urllib.parse
import urllib.request

from smart_meter.credentials import Credentials, basic_auth_headers
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.base import TransientSinkError
from streaming_app.sinks.metrics_points import MINUTE_MS, NS_PER_MS, MinuteStats

TRANSIENT_ERRORS = (OSError, http.client.HTTPException)  # refused, reset, timeout, bad reply


class MetricsWriteError(ValueError):
    """InfluxDB refused the points themselves (a bug, not an outage)."""

    def __init__(self, status: int, body: str) -> None:
        self.status, self.body = status, body
        super().__init__(f"influxdb refused the write ({status}): {body}")


class MetricsSink:
    """Writes each batch's per-minute metrics of its partition to InfluxDB."""

    name = "influxdb"

    def __init__(
        self,
        url: str,
        database: str,
        *,
        timeout_s: float = 5.0,
        keep_minutes: int = 5,
        instance_offset_ns: int | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._headers = basic_auth_headers(credentials)
        self.database = database
        self.timeout_s = timeout_s
        self.keep_minutes = keep_minutes
        self.instance_offset_ns = (
            random.randrange(1, 1_000_000_000) if instance_offset_ns is None else instance_offset_ns
        )
        self._minutes: dict[tuple[int, int], MinuteStats] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._database_ready = False

    async def write(self, batch: ProcessedBatch) -> None:
        """Count the batch into its minute and rewrite that minute's points."""
        minute_ms = batch.processed_ms // MINUTE_MS * MINUTE_MS
        stats = self._stats(batch.partition, minute_ms)
        stats.add(batch)
        timestamp_ns = minute_ms * NS_PER_MS + self.instance_offset_ns
        lock = self._locks.setdefault(batch.partition, asyncio.Lock())
        async with lock:  # the last write of a minute carries its latest totals
            body = "\n".join(stats.lines(batch.partition, timestamp_ns)).encode()
            await asyncio.to_thread(self._write_blocking, body)

    def _stats(self, partition: int, minute_ms: int) -> MinuteStats:
        """The minute's stats; minutes older than ``keep_minutes`` are forgotten."""
        stats = self._minutes.get((partition, minute_ms))
        if stats is None:
            stats = self._minutes[(partition, minute_ms)] = MinuteStats()
            oldest_ms = minute_ms - self.keep_minutes * MINUTE_MS
            for key in [key for key in self._minutes if key[1] < oldest_ms]:
                del self._minutes[key]
        return stats

    def _write_blocking(self, body: bytes) -> None:
        if not self._database_ready:
            self.query(f'CREATE DATABASE "{self.database}"')
            self._database_ready = True
        query = urllib.parse.urlencode({"db": self.database, "precision": "ns"})
        try:
            self._post(f"/write?{query}", body)
        except TransientSinkError:
            self._database_ready = False  # it may have been dropped: create it again
            raise

    def query(self, statement: str) -> bytes:
        """Run one InfluxQL statement (POST ``/query``); the raw JSON reply."""
        body = urllib.parse.urlencode({"q": statement, "db": self.database}).encode()
        return self._post("/query", body)

    def _post(self, path: str, body: bytes) -> bytes:
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method="POST", headers=self._headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                return bytes(reply.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace").strip()
            if error.code >= 500 or "database not found" in detail:
                raise TransientSinkError(self.name, f"HTTP {error.code}: {detail}") from error
            raise MetricsWriteError(error.code, detail) from error
        except TRANSIENT_ERRORS as error:
            raise TransientSinkError(self.name, f"{type(error).__name__}: {error}") from error

    async def close(self) -> None:
        """Nothing to flush: every write is sent before ``write`` returns."""
