"""Snapshots: replies turned into series as Grafana does, and stacked panels drawn stacked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest

from grafana.dashboards import data_quality
from grafana.macros import TimeRange
from grafana.queries import (
    PanelResult,
    QueryError,
    QueryResult,
    Rows,
    Series,
    influx_series,
    sql_series,
)
from grafana.render import draw_stacked, render


def test_influx_series_are_one_per_tag_set_named_by_the_alias() -> None:
    reply: list[dict[str, Any]] = [
        {"name": "pipeline", "tags": {"status": "VALID"}, "columns": ["time", "sum"],
         "values": [[60_000, 5], [120_000, None]]},
        {"name": "pipeline", "tags": {"status": "FLAGGED"}, "columns": ["time", "sum"],
         "values": [[60_000, 2]]},
    ]  # fmt: skip
    series = influx_series(reply, "$tag_status")
    assert [(s.name, s.points()) for s in series] == [("VALID", 1), ("FLAGGED", 1)]
    assert series[0].values == (5.0, None)


def test_sql_time_series_split_by_the_metric_column() -> None:
    t = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [(t, "gap", 3), (t, "late", 1), (t, "gap", 2)]
    series = sql_series(("time", "metric", "value"), rows)
    assert [(s.name, s.values) for s in series] == [("gap", (3.0, 2.0)), ("late", (1.0,))]
    with pytest.raises(QueryError, match="column named time"):
        sql_series(("day", "value"), [])


def test_stacked_bars_sit_on_the_series_below() -> None:
    figure, axes = plt.subplots()
    lower = Series("a", (0, 60_000), (2.0, 3.0))
    upper = Series("b", (60_000,), (4.0,))
    draw_stacked(axes, [lower, upper], bars=True)
    bars = [(round(p.get_y(), 6), round(p.get_height(), 6)) for p in axes.patches]  # type: ignore[attr-defined]
    plt.close(figure)
    assert bars == [(0, 2.0), (0, 3.0), (2.0, 0.0), (3.0, 4.0)]


def test_a_dashboard_is_drawn_to_one_png(tmp_path: Path) -> None:
    series = (Series("VALID", (0, 60_000), (1.0, 2.0)),)
    results = []
    for panel in data_quality.DASHBOARD.panels:
        table = Rows(("meter_id", "gaps"), (("M1", 3),)) if panel.kind == "table" else None
        outcome = QueryResult(panel.queries[0], "q", series=() if table else series, table=table)
        results.append(PanelResult(panel, (outcome,)))
    out = render(data_quality.DASHBOARD, results, tmp_path / "dq.png", "test", TimeRange(0, 60_000))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
