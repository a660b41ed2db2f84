"""Readings per second into the streaming app and stored by it, from its InfluxDB metrics.

The app writes, per partition and per minute of processing time, a ``throughput`` point
whose ``readings`` and ``stored`` fields are the minute's running totals
(:mod:`streaming_app.sinks.metrics_points`). The rate is their sum from the start of the
previous minute up to now, over the seconds elapsed: a window of one to two minutes that
includes the minute in progress.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass

from smart_meter.settings import ConnectionSettings

MINUTE_S = 60
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Rates:
    """Readings/s the app received and stored over ``window_s`` seconds up to now."""

    in_per_s: float
    stored_per_s: float
    window_s: float


def window_start_s(now_s: float) -> int:
    """The start of the previous minute."""
    return int(now_s) - int(now_s) % MINUTE_S - MINUTE_S


def pipeline_rates(connections: ConnectionSettings, now_s: float) -> Rates | None:
    """The app's rates, or ``None`` when there are no metrics (or no InfluxDB) to read."""
    start_s = window_start_s(now_s)
    since_ms = int(start_s) * 1000
    statement = 'SELECT sum("readings"), sum("stored") FROM "throughput" WHERE time >= %dms'
    statement %= since_ms
    values = query_first_row(connections, statement)
    if values is None:
        return None
    window_s = max(now_s - start_s, 1.0)
    readings, stored = (_number(value) for value in values[1:3])
    return Rates(readings / window_s, stored / window_s, window_s)


def query_first_row(connections: ConnectionSettings, statement: str) -> list[object] | None:
    """The first row of an InfluxQL query's first series; ``None`` if there is none."""
    query = urllib.parse.urlencode({"db": connections.influxdb_database, "q": statement})
    url = f"{connections.influxdb_url}/query?{query}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body = json.loads(response.read())
    except (OSError, ValueError):
        return None
    results = body.get("results") or [{}]
    series = results[0].get("series") or []
    if not series or not series[0].get("values"):
        return None
    row: list[object] = series[0]["values"][0]
    return row


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
