"""Draw a dashboard's panel results with matplotlib, laid out on Grafana's 24-column grid.

Lines, bars and points as the panel draws them; a stacked panel is drawn stacked (bars
on the series below, lines at the running total, filled); thresholds as dashed lines;
table panels as a table of their first rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.gridspec import GridSpec

from grafana.model import Dashboard, Draw, PanelKind
from grafana.queries import PanelResult, Rows, Series

GRID_COLUMNS = 24
INCH_PER_COLUMN = 0.62
INCH_PER_ROW = 0.3
TABLE_ROWS = 8


def render(dashboard: Dashboard, results: Sequence[PanelResult], out: Path, note: str) -> Path:
    """One PNG of the whole dashboard at ``out``."""
    layout = [p["gridPos"] for p in dashboard.to_json()["panels"]]
    rows = max(g["y"] + g["h"] for g in layout)
    figure = plt.figure(figsize=(GRID_COLUMNS * INCH_PER_COLUMN, rows * INCH_PER_ROW + 0.8))
    grid = GridSpec(rows, GRID_COLUMNS, figure=figure, hspace=2.6, wspace=1.2)
    for result, pos in zip(results, layout, strict=True):
        cell = grid[pos["y"] + 1 : pos["y"] + pos["h"], pos["x"] : pos["x"] + pos["w"]]
        draw_panel(figure.add_subplot(cell), result)
    figure.suptitle(f"{dashboard.title}  ({note})", fontsize=13, x=0.01, ha="left")
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=72, bbox_inches="tight")
    plt.close(figure)
    return out


def draw_panel(axes: Axes, result: PanelResult) -> None:
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
    if panel.stacked:
        draw_stacked(axes, series, bars=panel.draw is Draw.BARS)
    else:
        for one in series:
            draw_series(axes, one, panel.draw)
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


def _width_days(one: Series) -> float:
    steps = sorted({b - a for a, b in zip(one.times_ms, one.times_ms[1:], strict=False) if b > a})
    return (steps[0] if steps else 60_000) / 86_400_000 * 0.8


def draw_series(axes: Axes, one: Series, draw: Draw) -> None:
    times = _days(one.times_ms)
    values = [v if v is not None else float("nan") for v in one.values]
    if draw is Draw.BARS:
        axes.bar(times, values, width=_width_days(one), label=one.name)
    elif draw is Draw.POINTS:
        axes.scatter(times, values, s=18, label=one.name)
    else:
        axes.plot(times, values, linewidth=1.2, label=one.name)


def draw_stacked(axes: Axes, series: Sequence[Series], bars: bool) -> None:
    """Each series on top of the ones before it, at the union of their times."""
    times_ms = sorted({t for one in series for t in one.times_ms})
    below = dict.fromkeys(times_ms, 0.0)
    when = _days(times_ms)
    width = min(_width_days(one) for one in series)
    for one in series:
        value_at = {t: v or 0.0 for t, v in zip(one.times_ms, one.values, strict=True)}
        heights = [value_at.get(t, 0.0) for t in times_ms]
        bottoms = [below[t] for t in times_ms]
        if bars:
            axes.bar(when, heights, width=width, bottom=bottoms, label=one.name)
        else:
            tops = [b + h for b, h in zip(bottoms, heights, strict=True)]
            axes.fill_between(when, bottoms, tops, alpha=0.6, label=one.name, step="mid")
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
