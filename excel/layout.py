"""How every sheet of a workbook looks: a table with a frozen, filtered header whose
titles carry the units, number formats per column, and a print set-up that fits the
page's width in landscape (the header row repeated on every page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.header_footer import _HeaderFooterPart as _Part
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

T = TypeVar("T")
Value = str | int | float | Decimal | date | datetime | None

TIME_FORMAT = "yyyy-mm-dd hh:mm"
DAY_FORMAT = "yyyy-mm-dd"
KWH_FORMAT = "#,##0.000"
MONEY_FORMAT = "#,##0.00"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")


@dataclass(frozen=True)
class Column(Generic[T]):
    """A column: its title (with the unit), how wide, its number format, its value."""

    title: str
    value: Callable[[T], Value]
    width: float = 12
    number_format: str | None = None


def excel_time(when: datetime | None) -> datetime | None:
    """Excel has no time zones: UTC wall time, the header says ``(UTC)``."""
    return None if when is None else when.replace(tzinfo=None)


def write_table(
    sheet: Worksheet,
    columns: Sequence[Column[T]],
    rows: Sequence[T],
    *,
    first_column: int = 1,
    frozen_columns: int = 0,
) -> tuple[int, int]:
    """The header in row 1 and one row per item; the first and last data rows."""
    for offset, column in enumerate(columns):
        index = first_column + offset
        title = sheet.cell(row=1, column=index, value=column.title)
        title.font, title.fill = HEADER_FONT, HEADER_FILL
        title.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row_number, item in enumerate(rows, start=2):
        for offset, column in enumerate(columns):
            cell = sheet.cell(
                row=row_number, column=first_column + offset, value=column.value(item)
            )
            if column.number_format:
                cell.number_format = column.number_format
    if first_column == 1:
        sheet.freeze_panes = f"{get_column_letter(1 + frozen_columns)}2"
        last = get_column_letter(len(columns))
        sheet.auto_filter.ref = f"A1:{last}{max(len(rows) + 1, 2)}"
    sheet.row_dimensions[1].height = 45
    return 2, len(rows) + 1


def print_setup(sheet: Worksheet, title: str) -> None:
    """Landscape A4, one page wide, the header row on every page, title and page numbers."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddHeader = HeaderFooterItem(center=_Part(text=title))
    sheet.oddFooter = HeaderFooterItem(center=_Part(text="&A, page &P of &N"))


def note_when_empty(sheet: Worksheet, rows: Sequence[Any], what: str) -> None:
    """A line under the header saying the selection has none of ``what``."""
    if not rows:
        sheet.cell(row=2, column=1, value=f"No {what} in this selection.")
