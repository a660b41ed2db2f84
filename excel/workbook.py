"""A whole export: the selection read from Cassandra, laid out as four sheets, saved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from cassandra import DriverException
from openpyxl import Workbook

from excel.errors import EmptySelectionError, ExcelError
from excel.progress import ExportProgress
from excel.rows import ExportData
from excel.sheets import add_daily, add_estimates, add_events, add_readings
from excel.source import Reader, connect, days_of, months_of
from smart_meter.settings import ConnectionSettings

ALL_METERS = "all"
EXCEL_MAX_ROWS = 1_048_576
"""Rows of an Excel sheet, the header included."""


def check_fits(data: ExportData) -> None:
    """Refuse a selection whose readings do not fit on one sheet."""
    if len(data.readings) >= EXCEL_MAX_ROWS:
        raise ExcelError(
            f"{len(data.readings):,} readings do not fit on one sheet (Excel holds "
            f"{EXCEL_MAX_ROWS - 1:,} rows under its header): export fewer meters or days"
        )


def build_workbook(data: ExportData) -> Workbook:
    """The four sheets of ``data`` (no file written)."""
    book = Workbook()
    book.remove(book.worksheets[0])
    title = f"smart-meter export {data.first_day} to {data.last_day}, {len(data.meters)} meters"
    add_readings(book, data, title)
    add_daily(book, data, title)
    add_events(book, data, title)
    add_estimates(book, data, title)
    book.properties.title = title
    book.properties.creator = "smart-meter"
    return book


def read_selection(
    connections: ConnectionSettings,
    meters: Sequence[str],
    first: date,
    last: date,
    progress: ExportProgress,
) -> ExportData:
    """The meters' (or every meter's, for ``["all"]``) rows over the UTC days."""
    session = connect(connections)
    address = f"{','.join(connections.cassandra_hosts)}:{connections.cassandra_port}"
    try:
        reader = Reader(session, progress.advance)
        wanted = list(meters)
        if wanted == [ALL_METERS]:
            progress.say("listing meters")
            wanted = reader.meters_with_readings(first, last)
        days, months = len(days_of(first, last)), len(months_of(first, last))
        partitions = len(wanted) * (days + 3 * months) + days * min(len(wanted), 16)
        progress.start(partitions)
        data = reader.export(wanted, first, last) if wanted else ExportData(first, last)
    except DriverException as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExcelError(
            f"Cassandra at {address} failed while reading ({type(error).__name__}: "
            f"{reason[:200]}); try again, or export fewer meters or days"
        ) from None
    finally:
        session.cluster.shutdown()
    if not data.readings:
        raise EmptySelectionError(
            ",".join(meters), str(first), str(last), connections.cassandra_keyspace
        )
    return data


def export(
    connections: ConnectionSettings,
    meters: Sequence[str],
    first: date,
    last: date,
    path: Path,
    progress: ExportProgress | None = None,
) -> ExportData:
    """Read the selection, write the workbook to ``path``; what it holds."""
    if last < first:
        raise ExcelError(f"--to {last} is before --from {first}")
    if path.suffix.lower() != ".xlsx":
        raise ExcelError(f"{path}: the workbook's name must end in .xlsx")
    progress = progress or ExportProgress(quiet=True)
    with progress:
        data = read_selection(connections, meters, first, last, progress)
        check_fits(data)
        progress.say(f"writing {len(data.readings)} readings to {path}")
        book = build_workbook(data)
        try:
            book.save(path)
        except OSError as error:
            raise ExcelError(f"cannot write {path}: {error.strerror or error}") from None
    return data
