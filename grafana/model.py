"""Typed builders for the parts of Grafana's dashboard model the dashboards use.

Each dashboard is built from these objects by its own module under
:mod:`grafana.dashboards`; :func:`Dashboard.to_json` gives the JSON Grafana provisions
(checked against the schema generated from ``@grafana/schema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from grafana.datasources import INFLUXDB, POSTGRES, DatasourceRef

SCHEMA_VERSION = 41  # dashboard model version of Grafana 11.6 / 12
GRID_COLUMNS = 24


class PanelKind(StrEnum):
    TIMESERIES = "timeseries"
    BARCHART = "barchart"
    STAT = "stat"
    TABLE = "table"


class Draw(StrEnum):
    """How a time series draws: lines, bars or points (markers)."""

    LINE = "line"
    BARS = "bars"
    POINTS = "points"


@dataclass(frozen=True)
class InfluxQuery:
    """A raw InfluxQL query; ``$timeFilter``, ``$__interval`` and variables are Grafana's."""

    query: str
    alias: str = ""

    datasource: DatasourceRef = INFLUXDB

    def target(self, ref_id: str) -> dict[str, Any]:
        target: dict[str, Any] = {
            "refId": ref_id,
            "datasource": self.datasource.json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": "time_series",
        }
        if self.alias:
            target["alias"] = self.alias
        return target


@dataclass(frozen=True)
class SqlQuery:
    """A PostgreSQL query on the mart; ``$__timeFilter(column)`` and variables are Grafana's.

    ``table`` queries return rows; ``time_series`` queries return a ``time`` column, an
    optional ``metric`` column naming the series, and value columns.
    """

    query: str
    table: bool = False

    datasource: DatasourceRef = POSTGRES

    def target(self, ref_id: str) -> dict[str, Any]:
        return {
            "refId": ref_id,
            "datasource": self.datasource.json(),
            "rawSql": self.query,
            "rawQuery": True,
            "editorMode": "code",
            "format": "table" if self.table else "time_series",
        }


Query = InfluxQuery | SqlQuery


@dataclass(frozen=True)
class Threshold:
    """A line across the panel at ``value`` (e.g. the EN 50160 voltage band)."""

    value: float
    color: str


@dataclass(frozen=True)
class Panel:
    """One panel: its queries, kind and look; ``width`` in grid columns (of 24)."""

    title: str
    queries: tuple[Query, ...]
    kind: PanelKind = PanelKind.TIMESERIES
    unit: str = "short"
    description: str = ""
    width: int = 12
    height: int = 8
    draw: Draw = Draw.LINE
    stacked: bool = False
    min_interval: str = ""
    thresholds: tuple[Threshold, ...] = ()

    def to_json(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        panel: dict[str, Any] = {
            "id": panel_id,
            "type": self.kind.value,
            "title": self.title,
            "description": self.description,
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "datasource": self.queries[0].datasource.json(),
            "targets": [q.target(chr(ord("A") + i)) for i, q in enumerate(self.queries)],
            "fieldConfig": {"defaults": self._defaults(), "overrides": []},
            "options": self._options(),
        }
        if self.min_interval:
            panel["interval"] = self.min_interval
        return panel

    def _defaults(self) -> dict[str, Any]:
        steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
        steps += [{"color": t.color, "value": t.value} for t in self.thresholds]
        defaults: dict[str, Any] = {
            "unit": self.unit,
            "thresholds": {"mode": "absolute", "steps": steps},
        }
        if self.kind is PanelKind.TIMESERIES:
            defaults["custom"] = {
                "drawStyle": self.draw.value,
                "fillOpacity": 60 if self.draw is Draw.BARS or self.stacked else 10,
                "stacking": {"mode": "normal" if self.stacked else "none", "group": "A"},
                "showPoints": "always" if self.draw is Draw.POINTS else "auto",
                "pointSize": 8 if self.draw is Draw.POINTS else 4,
                "thresholdsStyle": {"mode": "line" if self.thresholds else "off"},
            }
        return defaults

    def _options(self) -> dict[str, Any]:
        if self.kind is PanelKind.TABLE:
            return {"showHeader": True}
        if self.kind is PanelKind.STAT:
            return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
        legend = {"displayMode": "list", "placement": "bottom", "showLegend": True}
        return {"legend": legend, "tooltip": {"mode": "multi", "sort": "none"}}


@dataclass(frozen=True)
class Variable:
    """A query variable whose values come from the mart (e.g. ``$meter``)."""

    name: str
    label: str
    query: SqlQuery

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": "query",
            "datasource": self.query.datasource.json(),
            "query": self.query.query,
            "refresh": 2,  # on time range change
            "includeAll": False,
            "multi": False,
            "sort": 0,
        }


@dataclass(frozen=True)
class Dashboard:
    """A dashboard: panels laid out left to right, top to bottom, in the order given."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    time_from: str = "now-6h"
    time_to: str = "now"
    refresh: str = "1m"
    tags: tuple[str, ...] = ("smart-meter",)
    variables: tuple[Variable, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "editable": False,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": self.time_to},
            "timezone": "utc",
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": []},
            "panels": self._laid_out(),
        }

    def _laid_out(self) -> list[dict[str, Any]]:
        x = y = row_height = 0
        panels = []
        for number, panel in enumerate(self.panels, start=1):
            if x + panel.width > GRID_COLUMNS:
                x, y, row_height = 0, y + row_height, 0
            panels.append(panel.to_json(number, x, y))
            x += panel.width
            row_height = max(row_height, panel.height)
        return panels
