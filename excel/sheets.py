"""The four sheets of an export, each a table with units in its titles, a summary where a
chart needs one, and native charts:

- **Readings**: every stored reading with its quality flags; interval energy and
  voltage per meter over time;
- **Daily energy**: energy and cost per meter and day; the fleet's total per day;
- **Gaps and alerts**: gaps and alerts of the meters; how many of each kind;
- **Estimated**: the batch's estimated intervals (quality ``E``); how many per meter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from excel.charts import bars, lines_per_meter, meter_blocks
from excel.layout import (
    DAY_FORMAT,
    KWH_FORMAT,
    MONEY_FORMAT,
    TIME_FORMAT,
    Column,
    excel_time,
    note_when_empty,
    print_setup,
    write_table,
)
from excel.rows import DailyRow, EventRow, ExportData, ReadingRow

READINGS, DAILY, EVENTS, ESTIMATED = "Readings", "Daily energy", "Gaps and alerts", "Estimated"


@dataclass(frozen=True)
class ReadingLine:
    """A reading and the energy since its meter's previous reading in the export."""

    reading: ReadingRow
    interval_kwh: float | None


def kwh(wh: float | None) -> float | None:
    return None if wh is None else wh / 1000


def reading_lines(readings: list[ReadingRow]) -> list[ReadingLine]:
    """Readings sorted by meter and time, each with its interval energy (kWh)."""
    lines: list[ReadingLine] = []
    previous: ReadingRow | None = None
    for reading in readings:
        lines.append(ReadingLine(reading, interval_kwh(previous, reading)))
        previous = reading
    return lines


def interval_kwh(previous: ReadingRow | None, reading: ReadingRow) -> float | None:
    """The register's rise since the meter's previous reading, if both are known."""
    if previous is None or previous.meter_id != reading.meter_id:
        return None
    if previous.import_wh is None or reading.import_wh is None:
        return None
    return (reading.import_wh - previous.import_wh) / 1000


READING_COLUMNS: tuple[Column[ReadingLine], ...] = (
    Column("Meter", lambda r: r.reading.meter_id, 14),
    Column("Time (UTC)", lambda r: excel_time(r.reading.ts), 17, TIME_FORMAT),
    Column("Register (kWh)", lambda r: kwh(r.reading.import_wh), 13, KWH_FORMAT),
    Column("Interval energy (kWh)", lambda r: r.interval_kwh, 12, KWH_FORMAT),
    Column("Voltage min (V)", lambda r: min(r.reading.voltage_v, default=None), 10, "0.0"),
    Column("Voltage max (V)", lambda r: max(r.reading.voltage_v, default=None), 10, "0.0"),
    Column("Current max (A)", lambda r: max(r.reading.current_a, default=None), 10, "0.00"),
    Column("Temperature (°C)", lambda r: r.reading.temperature_c, 12, "0.0"),
    Column("Quality", lambda r: r.reading.quality, 8),
    Column("Estimation method", lambda r: r.reading.estimation_method, 12),
    Column("Failed rules", lambda r: ", ".join(r.reading.failed_rules) or None, 18),
    Column("Lateness", lambda r: r.reading.lateness, 10),
    Column("Status", lambda r: r.reading.status, 10),
)


def add_readings(book: Workbook, data: ExportData, title: str) -> Worksheet:
    sheet: Worksheet = book.create_sheet(READINGS)
    lines = reading_lines(data.readings)
    first, _ = write_table(sheet, READING_COLUMNS, lines, frozen_columns=2)
    note_when_empty(sheet, lines, "readings")
    if lines:
        blocks = meter_blocks([line.reading.meter_id for line in lines], first)
        right = f"{_letter(len(READING_COLUMNS) + 2)}"
        lines_per_meter(sheet, blocks, 2, 4, "Energy per interval", "kWh", f"{right}2")
        lines_per_meter(sheet, blocks, 2, 6, "Highest phase voltage", "V", f"{right}20")
    print_setup(sheet, f"{title}: readings with quality flags")
    return sheet


def currency_of(rows: list[DailyRow]) -> str | None:
    currencies = {r.currency for r in rows if r.currency}
    return currencies.pop() if len(currencies) == 1 else None


def daily_columns(currency: str | None) -> tuple[Column[DailyRow], ...]:
    cost_title = f"Cost ({currency})" if currency else "Cost"
    return (
        Column("Meter", lambda r: r.meter_id, 14),
        Column("Day", lambda r: r.day, 12, DAY_FORMAT),
        Column("Energy (kWh)", lambda r: r.energy_mwh / 1_000_000, 12, KWH_FORMAT),
        Column(cost_title, lambda r: r.cost, 11, MONEY_FORMAT),
        Column("Currency", lambda r: r.currency, 9),
        Column("Intervals", lambda r: r.intervals, 9, "0"),
        Column("Estimated intervals", lambda r: r.estimated_intervals, 10, "0"),
        Column("Source", lambda r: r.source, 10),
    )


@dataclass(frozen=True)
class DayTotal:
    day: date
    energy_kwh: float
    cost: Decimal


def day_totals(rows: list[DailyRow]) -> list[DayTotal]:
    energy: Counter[date] = Counter()
    cost: dict[date, Decimal] = {}
    for row in rows:
        energy[row.day] += row.energy_mwh
        cost[row.day] = cost.get(row.day, Decimal(0)) + (row.cost or Decimal(0))
    return [DayTotal(d, energy[d] / 1_000_000, cost[d]) for d in sorted(energy)]


def add_daily(book: Workbook, data: ExportData, title: str) -> Worksheet:
    sheet: Worksheet = book.create_sheet(DAILY)
    columns = daily_columns(currency_of(data.daily))
    write_table(sheet, columns, data.daily, frozen_columns=2)
    note_when_empty(sheet, data.daily, "daily energy (run the batch's energy job)")
    totals = day_totals(data.daily)
    if totals:
        at = len(columns) + 2
        summary: tuple[Column[DayTotal], ...] = (
            Column("Day", lambda t: t.day, 12, DAY_FORMAT),
            Column("All meters (kWh)", lambda t: t.energy_kwh, 12, KWH_FORMAT),
            Column(f"All meters: {columns[3].title}", lambda t: t.cost, 12, MONEY_FORMAT),
        )
        first, last = write_table(sheet, summary, totals, first_column=at)
        bars(sheet, at, (at + 1,), (first, last), "Energy per day", "kWh", f"{_letter(at + 4)}2")
        bars(
            sheet,
            at,
            (at + 2,),
            (first, last),
            "Cost per day",
            summary[2].title,
            f"{_letter(at + 4)}20",
        )
    print_setup(sheet, f"{title}: daily energy and cost")
    return sheet


def duration_min(event: EventRow) -> float | None:
    if event.end is None:
        return None
    return (event.end - event.start).total_seconds() / 60


EVENT_COLUMNS: tuple[Column[EventRow], ...] = (
    Column("Kind", lambda e: e.kind, 16),
    Column("Meter", lambda e: e.meter_id, 14),
    Column("Start (UTC)", lambda e: excel_time(e.start), 17, TIME_FORMAT),
    Column("End (UTC)", lambda e: excel_time(e.end), 17, TIME_FORMAT),
    Column("Duration (min)", duration_min, 10, "0"),
    Column("Missing intervals", lambda e: e.missing_intervals, 10, "0"),
    Column("Value", lambda e: e.value, 10, "0.000"),
    Column("Threshold", lambda e: e.threshold, 10, "0.000"),
    Column("Unit", lambda e: e.unit, 8),
    Column("Detail", lambda e: e.detail, 30),
)


@dataclass(frozen=True)
class Count:
    """One row of a sheet's count table: what is counted, and how many."""

    key: str
    count: int


def add_count_bars(
    sheet: Worksheet,
    at: int,
    titles: tuple[tuple[str, int], tuple[str, int]],
    counts: Counter[str],
    chart: tuple[str, str],
) -> None:
    """A two-column table of ``counts`` from column ``at`` (key and count titles with
    their widths), and its bar chart beside it (chart title and unit)."""
    (key_title, key_width), (count_title, count_width) = titles
    summary: tuple[Column[Count], ...] = (
        Column(key_title, lambda c: c.key, key_width),
        Column(count_title, lambda c: c.count, count_width, "0"),
    )
    rows = [Count(key, n) for key, n in sorted(counts.items())]
    first, last = write_table(sheet, summary, rows, first_column=at)
    bars(sheet, at, (at + 1,), (first, last), *chart, f"{_letter(at + 3)}2")


def add_events(book: Workbook, data: ExportData, title: str) -> Worksheet:
    sheet: Worksheet = book.create_sheet(EVENTS)
    write_table(sheet, EVENT_COLUMNS, data.events, frozen_columns=1)
    note_when_empty(sheet, data.events, "gaps or alerts")
    counts = Counter(e.kind for e in data.events)
    if counts:
        at = len(EVENT_COLUMNS) + 2
        titles = (("Kind", 16), ("Events", 8))
        add_count_bars(sheet, at, titles, counts, ("Gaps and alerts by kind", "events"))
    print_setup(sheet, f"{title}: gaps and alerts")
    return sheet


ESTIMATE_COLUMNS: tuple[Column[ReadingLine], ...] = (
    Column("Meter", lambda r: r.reading.meter_id, 14),
    Column("Time (UTC)", lambda r: excel_time(r.reading.ts), 17, TIME_FORMAT),
    Column("Register (kWh)", lambda r: kwh(r.reading.import_wh), 13, KWH_FORMAT),
    Column("Interval energy (kWh)", lambda r: r.interval_kwh, 12, KWH_FORMAT),
    Column("Method", lambda r: r.reading.estimation_method, 14),
)


def add_estimates(book: Workbook, data: ExportData, title: str) -> Worksheet:
    sheet: Worksheet = book.create_sheet(ESTIMATED)
    estimated = [line for line in reading_lines(data.readings) if line.reading.estimated]
    write_table(sheet, ESTIMATE_COLUMNS, estimated, frozen_columns=2)
    note_when_empty(sheet, estimated, "estimated intervals (run the batch's estimate job)")
    per_meter = Counter(line.reading.meter_id for line in estimated)
    if per_meter:
        at = len(ESTIMATE_COLUMNS) + 2
        titles = (("Meter", 14), ("Estimated intervals", 11))
        chart = ("Estimated intervals per meter", "intervals")
        add_count_bars(sheet, at, titles, per_meter, chart)
    print_setup(sheet, f"{title}: estimated intervals")
    return sheet


def _letter(column: int) -> str:
    return get_column_letter(column)
