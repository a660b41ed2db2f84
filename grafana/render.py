"""Draw a dashboard's panel results with matplotlib, laid out on Grafana's 24-column grid.

Lines, bars and points as the panel draws them; a stacked panel is drawn stacked (bars
on the series below, lines at the running total, filled); thresholds as dashed lines;
table panels as a table of their first rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.gridspec import GridSpec

from grafana.macros import TimeRange
from grafana.model import Dashboard, Draw, PanelKind
from grafana.queries import PanelResult, Rows, Series

GRID_COLUMNS = 24
INCH_PER_COLUMN = 0.62
INCH_PER_ROW = 0.3
TABLE_ROWS = 8
BARS_PER_RANGE = 60  # width of a bar whose series has a single point


def render(
    dashboard: Dashboard,
    results: Sequence[PanelResult],
    out: Path,
    note: str,
    time_range: TimeRange,
) -> Path:
    """One PNG of the whole dashboard at ``out``, every time axis over ``time_range``."""
    layout = [p["gridPos"] for p in dashboard.to_json()["panels"]]
    rows = max(g["y"] + g["h"] for g in layout)
    figure = plt.figure(figsize=(GRID_COLUMNS * INCH_PER_COLUMN, rows * INCH_PER_ROW + 0.8))
    grid = GridSpec(rows, GRID_COLUMNS, figure=figure, hspace=2.6, wspace=1.2)
    for result, pos in zip(results, layout, strict=True):
        cell = grid[pos["y"] + 1 : pos["y"] + pos["h"], pos["x"] : pos["x"] + pos["w"]]
        draw_panel(figure.add_subplot(cell), result, time_range)
    figure.suptitle(f"{dashboard.title}  ({note})", fontsize=13, x=0.01, ha="left")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=72, bbox_inches="tight")
    plt.close(figure)
    return out


def draw_panel(axes: Axes, result: PanelResult, time_range: TimeRange) -> None:
    panel = result.panel
    axes.set_title(panel.title, fontsize=10, loc="left")
    if panel.kind is PanelKind.TABLE:
        tables = [r.table for r in result.results if r.table is not None]
        draw_table(axes, tables[0] if tables else Rows((), ()))
        return
    series = [s for r in result.results for s in r.series if s.points()]
    if not series:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
        return
    low, high = _days((time_range.from_ms, time_range.to_ms))
    bar_days = (high - low) / BARS_PER_RANGE
    if panel.stacked:
        draw_stacked(axes, series, bars=panel.draw is Draw.BARS, lone_bar_days=bar_days)
    else:
        for one in series:
            draw_series(axes, one, panel.draw, bar_days)
    axes.set_xlim(low, high)
    for threshold in panel.thresholds:
        axes.axhline(threshold.value, color=threshold.color, linestyle="--", linewidth=1)
    axes.xaxis_date(tz=UTC)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    axes.tick_params(labelsize=7)
    axes.set_ylabel(panel.unit, fontsize=8)
    if len(series) <= 12:
        axes.legend(fontsize=7, loc="upper left")


def _days(times_ms: Sequence[int]) -> list[float]:
    """matplotlib's date numbers: days since 1970-01-01 UTC."""
    return [t / 86_400_000 for t in times_ms]


def _width_days(one: Series, lone_bar_days: float) -> float:
    """80 % of the series' step; a series of one point gets ``lone_bar_days``."""
    steps = sorted({b - a for a, b in itertools.pairwise(one.times_ms) if b > a})
    return steps[0] / 86_400_000 * 0.8 if steps else lone_bar_days


def draw_series(axes: Axes, one: Series, draw: Draw, lone_bar_days: float) -> None:
    times = _days(one.times_ms)
    values = [v if v is not None else float("nan") for v in one.values]
    if draw is Draw.BARS:
        axes.bar(times, values, width=_width_days(one, lone_bar_days), label=one.name)
    elif draw is Draw.POINTS:
        axes.scatter(times, values, s=18, label=one.name)
    else:
        axes.plot(times, values, linewidth=1.2, marker="o", markersize=3, label=one.name)


def draw_stacked(
    axes: Axes, series: Sequence[Series], bars: bool, lone_bar_days: float = 1 / 1440
) -> None:
    """Each series on top of the ones before it, at the union of their times."""
    times_ms = sorted({t for one in series for t in one.times_ms})
    below = dict.fromkeys(times_ms, 0.0)
    when = _days(times_ms)
    width = min(_width_days(one, lone_bar_days) for one in series)
    for one in series:
        value_at = {t: v or 0.0 for t, v in zip(one.times_ms, one.values, strict=True)}
        heights = [value_at.get(t, 0.0) for t in times_ms]
        bottoms = [below[t] for t in times_ms]
        if bars:
            axes.bar(when, heights, width=width, bottom=bottoms, label=one.name)
        else:
            tops = [b + h for b, h in zip(bottoms, heights, strict=True)]
            axes.fill_between(when, bottoms, tops, alpha=0.6, step="mid")
            axes.plot(when, tops, marker="o", markersize=3, linewidth=1, label=one.name)
        for t, h in zip(times_ms, heights, strict=True):
            below[t] += h


def draw_table(axes: Axes, rows: Rows) -> None:
    axes.axis("off")
    if not rows.rows:
        axes.text(0.5, 0.5, "no rows", ha="center", va="center", transform=axes.transAxes)
        return
    cells = [[_cell(v) for v in row] for row in rows.rows[:TABLE_ROWS]]
    table = axes.table(cellText=cells, colLabels=list(rows.columns), loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M")
    return "" if value is None else str(value)[:24]
