"""Native Excel charts over a sheet's own cells (openpyxl draws them as chart parts that
Excel and LibreOffice render themselves): a line per meter over time, or bars per
category of a summary table."""

from __future__ import annotations

from collections.abc import Mapping

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.worksheet.worksheet import Worksheet

MAX_METER_SERIES = 8
"""More lines than this make a chart unreadable: the first meters are drawn, the title says so."""
CHART_WIDTH_CM, CHART_HEIGHT_CM = 18.0, 8.5


def meter_blocks(meters_in_row_order: list[str], first_row: int) -> dict[str, tuple[int, int]]:
    """Each meter's first and last row, for rows sorted by meter."""
    blocks: dict[str, tuple[int, int]] = {}
    for offset, meter in enumerate(meters_in_row_order):
        row = first_row + offset
        start, _ = blocks.get(meter, (row, row))
        blocks[meter] = (start, row)
    return blocks


def lines_per_meter(
    sheet: Worksheet,
    blocks: Mapping[str, tuple[int, int]],
    x_column: int,
    y_column: int,
    title: str,
    y_title: str,
    anchor: str,
) -> ScatterChart:
    """One line per meter (its rows' ``y`` against their time in ``x``) at ``anchor``."""
    chart = ScatterChart()
    drawn = list(blocks.items())[:MAX_METER_SERIES]
    more = len(blocks) - len(drawn)
    chart.title = f"{title} (first {len(drawn)} of {len(blocks)} meters)" if more else title
    chart.style = 13
    chart.x_axis.title = "Time (UTC)"
    chart.x_axis.number_format = "mm-dd hh:mm"
    chart.x_axis.majorTickMark = "out"
    chart.y_axis.title = y_title
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for meter, (first, last) in drawn:
        xs = Reference(sheet, min_col=x_column, min_row=first, max_row=last)
        ys = Reference(sheet, min_col=y_column, min_row=first, max_row=last)
        series = Series(ys, xs, title=meter)
        series.marker.symbol = "none"
        series.smooth = False
        chart.series.append(series)
    _place(sheet, chart, anchor)
    return chart


def bars(
    sheet: Worksheet,
    category_column: int,
    value_columns: tuple[int, ...],
    rows: tuple[int, int],
    title: str,
    y_title: str,
    anchor: str,
) -> BarChart:
    """Bars of ``value_columns`` (titles in row 1) per category, at ``anchor``."""
    chart = BarChart()
    chart.type = "col"
    chart.style = 10
    chart.title = title
    chart.y_axis.title = y_title
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    first, last = rows
    for column in value_columns:
        values = Reference(sheet, min_col=column, min_row=1, max_row=last)
        chart.add_data(values, titles_from_data=True)
    if len(value_columns) == 1:
        chart.legend = None  # the title says what the bars are
    chart.set_categories(Reference(sheet, min_col=category_column, min_row=first, max_row=last))
    _place(sheet, chart, anchor)
    return chart


def _place(sheet: Worksheet, chart: ScatterChart | BarChart, anchor: str) -> None:
    chart.width, chart.height = CHART_WIDTH_CM, CHART_HEIGHT_CM  # type: ignore[assignment]
    sheet.add_chart(chart, anchor)
