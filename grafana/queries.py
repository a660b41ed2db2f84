"""Run a dashboard's panel queries as Grafana would, against the real InfluxDB and mart.

Grafana cannot run here; this is what its InfluxQL and PostgreSQL datasources do with a
panel: expand the macros (:mod:`grafana.macros`), send the query, and turn the reply
into series (InfluxDB: one per tag set and field; SQL ``time_series``: one per
``metric`` value and value column) or a table.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from grafana.macros import TimeRange, expand_influxql, expand_sql, panel_interval_ms
from grafana.model import Dashboard, InfluxQuery, Panel, Query, SqlQuery, Variable
from smart_meter.settings import ConnectionSettings


class QueryError(RuntimeError):
    """A datasource refused a query or could not be reached; says which and why."""


@dataclass(frozen=True)
class Series:
    name: str
    times_ms: tuple[int, ...]
    values: tuple[float | None, ...]

    def points(self) -> int:
        return sum(value is not None for value in self.values)


@dataclass(frozen=True)
class Rows:
    """A table query's result."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class QueryResult:
    query: Query
    sent: str  # the query with its macros expanded
    series: tuple[Series, ...] = ()
    table: Rows | None = None

    def points(self) -> int:
        if self.table is not None:
            return len(self.table.rows)
        return sum(s.points() for s in self.series)


@dataclass(frozen=True)
class PanelResult:
    panel: Panel
    results: tuple[QueryResult, ...] = field(default=())


class Datasources:
    """Open connections to both datasources; close with :meth:`close`."""

    def __init__(self, connections: ConnectionSettings, timeout_s: float = 60.0) -> None:
        self.connections = connections
        self.timeout_s = timeout_s
        self._postgres: psycopg.Connection[Any] | None = None

    def influxql(self, query: str) -> list[dict[str, Any]]:
        """The ``series`` of the single statement's result."""
        settings = self.connections
        body = urllib.parse.urlencode({"q": query, "db": settings.influxdb_database, "epoch": "ms"})
        request = urllib.request.Request(f"{settings.influxdb_url}/query", data=body.encode())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                answer = json.loads(reply.read())
        except (OSError, urllib.error.HTTPError) as error:
            raise QueryError(f"InfluxDB at {settings.influxdb_url}: {error}") from None
        result = answer["results"][0]
        if "error" in result:
            raise QueryError(f"InfluxDB refused {query!r}: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def sql(self, query: str) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        connection = self._connection()
        try:
            cursor = connection.execute(query)
        except psycopg.Error as error:
            raise QueryError(f"PostgreSQL refused {query!r}: {str(error).strip()}") from None
        columns = tuple(d.name for d in cursor.description or ())
        return columns, list(cursor.fetchall())

    def _connection(self) -> psycopg.Connection[Any]:
        if self._postgres is None:
            s = self.connections
            try:
                self._postgres = psycopg.connect(
                    host=s.postgres_host, port=s.postgres_port, dbname=s.postgres_database,
                    user=s.postgres_user, password=s.postgres_password_value(),
                    connect_timeout=int(self.timeout_s), autocommit=True,
                )  # fmt: skip
            except psycopg.OperationalError as error:
                reason = str(error).strip().splitlines()[0]
                raise QueryError(f"PostgreSQL at {s.postgres_address}: {reason}") from None
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()


def influx_series(reply: Sequence[Mapping[str, Any]], alias: str) -> list[Series]:
    """One series per tag set and value column, named by ``alias`` (``$tag_x``) or column."""
    out = []
    for block in reply:
        tags: Mapping[str, str] = block.get("tags") or {}
        columns: list[str] = block["columns"]
        values: list[list[Any]] = block["values"]
        times = tuple(int(row[0]) for row in values)
        for index, column in enumerate(columns[1:], start=1):
            name = _series_name(alias, column, tags, several=len(columns) > 2)
            out.append(Series(name, times, tuple(_number(row[index]) for row in values)))
    return out


def _series_name(alias: str, column: str, tags: Mapping[str, str], several: bool) -> str:
    if alias:
        name = alias
        for key, value in tags.items():
            name = name.replace(f"$tag_{key}", value)
        return f"{name} {column}" if several else name
    label = " ".join(f"{key}={value}" for key, value in tags.items())
    return f"{column} {label}".strip()


def sql_series(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Series]:
    """Grafana's ``time_series`` format: a ``time`` column, an optional ``metric`` column."""
    if "time" not in columns:
        raise QueryError(f"a time series query needs a column named time, got {list(columns)}")
    time_at = columns.index("time")
    metric_at = columns.index("metric") if "metric" in columns else None
    value_at = [i for i, name in enumerate(columns) if i not in (time_at, metric_at)]
    grouped: dict[str, list[tuple[int, float | None]]] = {}
    for row in rows:
        for i in value_at:
            name = columns[i] if metric_at is None else str(row[metric_at])
            if metric_at is not None and len(value_at) > 1:
                name = f"{name} {columns[i]}"
            grouped.setdefault(name, []).append((_epoch_ms(row[time_at]), _number(row[i])))
    return [
        Series(name, tuple(t for t, _ in points), tuple(v for _, v in points))
        for name, points in grouped.items()
    ]


def _epoch_ms(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day).timestamp() * 1000)
    return int(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise QueryError(f"value {value!r} of a time series is not a number")


def variable_values(
    dashboard: Dashboard, sources: Datasources, time_range: TimeRange
) -> dict[str, str]:
    """Each variable's current value as Grafana picks it: the first its query returns."""
    values: dict[str, str] = {}
    for variable in dashboard.variables:
        values[variable.name] = first_value(variable, sources, time_range, values)
    return values


def first_value(
    variable: Variable, sources: Datasources, time_range: TimeRange, values: Mapping[str, str]
) -> str:
    _, rows = sources.sql(expand_sql(variable.query.query, time_range, values))
    if not rows:
        raise QueryError(f"variable ${variable.name} has no values: its query returned no rows")
    return str(rows[0][0])


def run_panel(
    panel: Panel, sources: Datasources, time_range: TimeRange, values: Mapping[str, str]
) -> PanelResult:
    interval_ms = panel_interval_ms(time_range, panel.width, panel.min_interval)
    results = []
    for query in panel.queries:
        if isinstance(query, InfluxQuery):
            sent = expand_influxql(query.query, time_range, interval_ms, values)
            series = influx_series(sources.influxql(sent), query.alias)
            results.append(QueryResult(query, sent, series=tuple(series)))
        else:
            results.append(_run_sql(query, sources, time_range, values))
    return PanelResult(panel, tuple(results))


def _run_sql(
    query: SqlQuery, sources: Datasources, time_range: TimeRange, values: Mapping[str, str]
) -> QueryResult:
    sent = expand_sql(query.query, time_range, values)
    columns, rows = sources.sql(sent)
    if query.table:
        return QueryResult(query, sent, table=Rows(columns, tuple(tuple(r) for r in rows)))
    return QueryResult(query, sent, series=tuple(sql_series(columns, rows)))


def default_range(dashboard: Dashboard, now: datetime) -> TimeRange:
    return TimeRange.relative(dashboard.time_from, dashboard.time_to, now)


def run_dashboard(
    dashboard: Dashboard, sources: Datasources, now: datetime
) -> tuple[dict[str, str], list[PanelResult]]:
    """The variables' values and every panel's results over the dashboard's default range."""
    time_range = default_range(dashboard, now)
    values = variable_values(dashboard, sources, time_range)
    return values, [run_panel(panel, sources, time_range, values) for panel in dashboard.panels]
