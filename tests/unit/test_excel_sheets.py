"""The workbook's sheets built from rows in memory (no server): titles with units, frozen
headers, number formats, charts over the right cells, print set-up, values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, ScatterChart
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from excel.charts import MAX_METER_SERIES
from excel.errors import ExcelError
from excel.rows import DailyRow, EventRow, ExportData, ReadingRow
from excel.sheets import DAILY, ESTIMATED, EVENTS, READINGS, reading_lines
from excel.workbook import EXCEL_MAX_ROWS, build_workbook, check_fits

START = datetime(2024, 3, 4, tzinfo=UTC)


def reading(meter: str, n: int, wh: float, quality: str = "A", **extra: object) -> ReadingRow:
    return ReadingRow(
        meter_id=meter,
        ts=START + timedelta(minutes=30 * n),
        import_wh=wh,
        voltage_v=(229.5, 231.0),
        quality=quality,
        **extra,  # type: ignore[arg-type]
    )


def sample(meters: int = 2) -> ExportData:
    data = ExportData(date(2024, 3, 4), date(2024, 3, 4))
    for m in range(meters):
        meter = f"M{m}"
        data.readings += [reading(meter, n, 1000.0 + 250 * n) for n in range(4)]
        data.readings.append(reading(meter, 4, 2050.0, "E", estimation_method="linear"))
        data.daily.append(
            DailyRow(meter, date(2024, 3, 4), 1_050_000, Decimal("0.31"), "EUR", 5, 1, "batch")
        )
    data.events = [
        EventRow(
            "gap", "M0", START, START + timedelta(hours=1), missing_intervals=2, detail="open"
        ),
        EventRow("spike", "M1", START, None, value=3.2, threshold=2.0, unit="kWh"),
    ]
    return data


def charts(book: Workbook, name: str) -> list[Any]:
    sheet = book[name]
    assert isinstance(sheet, Worksheet)
    return list(sheet._charts)  # type: ignore[attr-defined]


def reopened(book: Workbook) -> Workbook:
    """Saved and read back, as a user's Excel sees the file."""
    buffer = BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return load_workbook(buffer)


def test_four_sheets_with_units_in_their_titles() -> None:
    book = reopened(build_workbook(sample()))
    assert book.sheetnames == [READINGS, DAILY, EVENTS, ESTIMATED]
    titles = [c.value for c in book[READINGS][1]][:8]
    assert titles[:4] == ["Meter", "Time (UTC)", "Register (kWh)", "Interval energy (kWh)"]
    assert "Voltage max (V)" in titles
    assert "Temperature (°C)" in titles
    assert [c.value for c in book[DAILY][1]][2:4] == ["Energy (kWh)", "Cost (EUR)"]


def test_headers_are_frozen_and_values_have_number_formats() -> None:
    book = reopened(build_workbook(sample()))
    readings = book[READINGS]
    assert readings.freeze_panes == "C2"
    assert readings["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert readings["C2"].number_format == "#,##0.000"
    assert book[DAILY]["D2"].number_format == "#,##0.00"
    assert book[EVENTS].freeze_panes == "B2"


def test_values_are_in_the_units_their_titles_say() -> None:
    book = reopened(build_workbook(sample()))
    readings = book[READINGS]
    assert readings["A2"].value == "M0"
    assert readings["B2"].value == datetime(2024, 3, 4, 0, 0)  # UTC wall time
    assert readings["C2"].value == 1.0  # 1,000 Wh
    assert readings["D2"].value is None  # no previous reading
    assert readings["D3"].value == 0.25
    assert readings["I6"].value == "E"
    daily = book[DAILY]
    assert daily["C2"].value == 1.05  # 1,050,000 mWh
    assert daily["D2"].value == 0.31
    estimated = book[ESTIMATED]
    assert [estimated["A2"].value, estimated["E2"].value] == ["M0", "linear"]
    assert estimated.max_row == 3  # one estimate per meter


def test_every_sheet_has_native_charts_over_its_own_cells() -> None:
    book = build_workbook(sample())
    readings_charts = charts(book, READINGS)
    assert len(readings_charts) == 2
    assert all(isinstance(c, ScatterChart) for c in readings_charts)
    energy = readings_charts[0]
    assert [s.tx.strRef.f if s.tx.strRef else s.tx.v for s in energy.series] == ["M0", "M1"]
    assert energy.series[0].yVal.numRef.f == "'Readings'!$D$2:$D$6"
    assert energy.series[1].xVal.numRef.f == "'Readings'!$B$7:$B$11"
    for name in (DAILY, EVENTS, ESTIMATED):
        assert charts(book, name), name
        assert all(isinstance(c, BarChart) for c in charts(book, name))


def test_charts_draw_at_most_a_readable_number_of_meters() -> None:
    book = build_workbook(sample(meters=MAX_METER_SERIES + 3))
    energy = charts(book, READINGS)[0]
    assert len(energy.series) == MAX_METER_SERIES
    title = energy.title.tx.rich.p[0].r[0].t
    assert f"first {MAX_METER_SERIES} of {MAX_METER_SERIES + 3} meters" in title


def test_print_set_up_fits_the_width_in_landscape() -> None:
    book = reopened(build_workbook(sample()))
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1
        assert sheet.page_setup.fitToHeight == 0
        fit = sheet.sheet_properties.pageSetUpPr
        assert fit is not None
        assert fit.fitToPage
        assert sheet.print_title_rows == "$1:$1"


def test_an_empty_sheet_says_so_instead_of_drawing_an_empty_chart() -> None:
    data = sample()
    data.events, data.daily = [], []
    data.readings = [r for r in data.readings if not r.estimated]
    book = build_workbook(data)
    assert book[EVENTS]["A2"].value == "No gaps or alerts in this selection."
    assert book[ESTIMATED]["A2"].value.startswith("No estimated intervals")
    assert not charts(book, EVENTS)
    assert not charts(book, ESTIMATED)


def test_interval_energy_restarts_at_each_meter() -> None:
    rows = [reading("A", 0, 10.0), reading("A", 1, 30.0), reading("B", 0, 500.0)]
    assert [line.interval_kwh for line in reading_lines(rows)] == [None, 0.02, None]


def test_more_readings_than_a_sheet_holds_are_refused() -> None:
    data = sample()
    data.readings = data.readings * (EXCEL_MAX_ROWS // len(data.readings) + 1)
    with pytest.raises(ExcelError, match="do not fit on one sheet"):
        check_fits(data)
    check_fits(sample())
