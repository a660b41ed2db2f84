"""Grafana's query macros, expanded the way Grafana expands them before a query is sent.

- the dashboard's relative time range (``now-24h`` .. ``now``) becomes epoch milliseconds;
- ``$__interval`` / ``$__interval_ms``: the range divided by the panel's width in pixels
  (its ``maxDataPoints``), rounded to Grafana's steps, never below the panel's minimum
  interval (or the datasource's ``timeInterval``);
- InfluxQL: ``$timeFilter`` is ``time >= <from>ms and time <= <to>ms``;
- PostgreSQL: ``$__timeFilter(expr)`` is ``expr BETWEEN '<from>' AND '<to>'`` (RFC 3339),
  ``$__timeFrom()`` and ``$__timeTo()`` the bounds;
- variables: ``$name``, ``${name}`` and ``[[name]]`` by their current value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

DATASOURCE_MIN_INTERVAL_MS = 10_000  # the provisioned InfluxDB datasource's timeInterval
DASHBOARD_WIDTH_PX = 1_800  # a full-width row on a common screen; a panel gets its share
GRID_COLUMNS = 24

UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
# Grafana's rangeutil.roundInterval: (below this many ms, use this interval)
ROUNDING_MS = (
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
    (1_500, 1_000), (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000),
    (25_000, 20_000), (45_000, 30_000), (90_000, 60_000), (210_000, 120_000),
    (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000), (1_500_000, 1_200_000),
    (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
    (16_200_000, 10_800_000), (32_400_000, 21_600_000), (86_400_000, 43_200_000),
    (604_800_000, 86_400_000), (1_814_400_000, 604_800_000), (3_628_800_000, 2_592_000_000),
)  # fmt: skip
YEAR_MS = 31_536_000_000
RELATIVE = re.compile(r"^now(?:([+-])(\d+)([smhdw]))?$")
SQL_TIME_FILTER = re.compile(r"\$__timeFilter\(([^()]*)\)")


class MacroError(ValueError):
    """A time, interval or variable Grafana would not understand either."""


@dataclass(frozen=True)
class TimeRange:
    from_ms: int
    to_ms: int

    @classmethod
    def relative(cls, start: str, end: str, now: datetime) -> TimeRange:
        """``now-6h`` .. ``now`` (or ``now+1d``) against ``now``."""
        now_ms = int(now.timestamp() * 1000)
        return cls(_relative_ms(start, now_ms), _relative_ms(end, now_ms))

    def rfc3339(self, epoch_ms: int) -> str:
        return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _relative_ms(text: str, now_ms: int) -> int:
    match = RELATIVE.match(text.strip())
    if match is None:
        raise MacroError(f"time {text!r} is not of the form now, now-<n><unit> or now+<n><unit>")
    sign, amount, unit = match.groups()
    if sign is None:
        return now_ms
    offset_ms = int(amount) * UNIT_MS[unit]
    return now_ms + offset_ms if sign == "+" else now_ms - offset_ms


def parse_interval_ms(text: str) -> int:
    """``10s``, ``1m``, ``500ms`` as milliseconds."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", text.strip())
    if match is None:
        raise MacroError(f"interval {text!r} is not of the form <n>ms|s|m|h|d|w")
    return int(match.group(1)) * UNIT_MS[match.group(2)]


def round_interval_ms(raw_ms: float) -> int:
    for below_ms, interval_ms in ROUNDING_MS:
        if raw_ms < below_ms:
            return interval_ms
    return YEAR_MS


def interval_text(interval_ms: int) -> str:
    """How Grafana writes an interval into a query: the largest whole unit (``2m``, ``1h``)."""
    for unit, unit_ms in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if interval_ms >= unit_ms:
            return f"{interval_ms // unit_ms}{unit}"
    return f"{interval_ms}ms"


def panel_interval_ms(time_range: TimeRange, width_columns: int, min_interval: str = "") -> int:
    """``$__interval_ms`` of a panel ``width_columns`` wide (of 24)."""
    max_data_points = max(1, DASHBOARD_WIDTH_PX * width_columns // GRID_COLUMNS)
    raw_ms = (time_range.to_ms - time_range.from_ms) / max_data_points
    low_ms = parse_interval_ms(min_interval) if min_interval else DATASOURCE_MIN_INTERVAL_MS
    return max(round_interval_ms(raw_ms), low_ms)


def expand_variables(query: str, values: Mapping[str, str]) -> str:
    """``$name``, ``${name}`` and ``[[name]]``, longest names first; an unknown one is left
    for the caller's check."""
    for name in sorted(values, key=len, reverse=True):
        value = values[name]
        query = query.replace(f"${{{name}}}", value).replace(f"[[{name}]]", value)
        query = re.sub(rf"\${re.escape(name)}\b", _literal(value), query)
    return query


def _literal(value: str) -> Callable[[re.Match[str]], str]:
    """A replacement that inserts ``value`` as it is (no backslash escapes)."""
    return lambda _match: value


def expand_influxql(
    query: str, time_range: TimeRange, interval_ms: int, values: Mapping[str, str]
) -> str:
    query = query.replace(
        "$timeFilter", f"time >= {time_range.from_ms}ms and time <= {time_range.to_ms}ms"
    )
    query = query.replace("$__interval_ms", str(interval_ms))
    query = query.replace("$__interval", interval_text(interval_ms))
    return _checked(expand_variables(query, values))


def expand_sql(query: str, time_range: TimeRange, values: Mapping[str, str]) -> str:
    start, end = time_range.rfc3339(time_range.from_ms), time_range.rfc3339(time_range.to_ms)
    query = SQL_TIME_FILTER.sub(lambda m: f"{m.group(1)} BETWEEN '{start}' AND '{end}'", query)
    query = query.replace("$__timeFrom()", f"'{start}'").replace("$__timeTo()", f"'{end}'")
    return _checked(expand_variables(query, values))


def _checked(query: str) -> str:
    left = re.search(r"\$\{?\w+|\[\[\w+\]\]", query)
    if left is not None:
        raise MacroError(f"{left.group(0)} is neither a macro nor a variable of the dashboard")
    return query
