"""What every replay format shares: bad rows, the end-of-replay report, format objects.

A format turns one CSV row (a list of fields) into one :class:`Reading`, or raises
:class:`BadRowError` with a short machine-readable ``reason`` (``missing_value``,
``bad_number``, ``bad_timestamp``, ``wrong_column_count``, ``negative_energy``, ...).
Nothing is dropped silently: every data row ends up either as a reading sent to
JetStream or as one count under its reason in the :class:`ReplayReport`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from smart_meter.reading import Reading

FIRST_LINES_KEPT = 5
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_.:\-]+")  # as smart_meter.reading.Identifier


class ReplayError(ValueError):
    """The replay cannot start or go on: unknown format, header that does not fit, ..."""


class BadRowError(ValueError):
    """One row that cannot become a reading: ``reason`` is the category counted in reports."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}")


class StrictStopError(ReplayError):
    """``--strict`` met a bad row: names the file, line and reason in one line."""

    def __init__(self, path: Path, line_no: int, bad: BadRowError) -> None:
        self.path, self.line_no, self.bad = path, line_no, bad
        self.report: ReplayReport | None = None  # what was replayed before the stop
        super().__init__(f"{path}:{line_no}: {bad.reason}: {bad.detail}")


@dataclass(frozen=True)
class FormatOptions:
    """How rows become readings, whatever the format.

    ``meter_id`` replaces the meter id of a single-meter file (UCI has none);
    ``meter_prefix`` is put before every meter id (unique ids per test run);
    ``timezone`` overrides the format's zone for naive local times.
    """

    meter_id: str | None = None
    meter_prefix: str = ""
    timezone: ZoneInfo | None = None

    def __post_init__(self) -> None:
        for name, value in (("meter id", self.meter_id), ("meter prefix", self.meter_prefix)):
            if value and not _ID_CHARACTERS.fullmatch(value):
                raise ReplayError(f"{name} {value!r} may only hold letters, digits and _.:-")


class RowParser(Protocol):
    """Per-replay parser: holds per-meter state (register, last event time)."""

    def parse(self, fields: Sequence[str]) -> Reading:
        """The reading of one data row; raises :class:`BadRowError`."""


class CsvFormat(Protocol):
    """A replayable file format: how to recognise it and how to read its rows."""

    name: str
    delimiter: str
    header_required: bool

    def is_header(self, first_row: Sequence[str]) -> bool:
        """Whether ``first_row`` is this format's header line."""

    def accepts_first_row(self, first_row: Sequence[str]) -> bool:
        """Whether a file starting with ``first_row`` is in this format (auto-detection)."""

    def parser(self, options: FormatOptions, header: Sequence[str] | None) -> RowParser:
        """A fresh parser for one file; ``header`` is its header row, if it has one."""


@dataclass
class BadRowTally:
    """How many rows failed for one reason, where the first ones are, and one example."""

    count: int = 0
    first_lines: list[int] = field(default_factory=list)
    example: str = ""

    def add(self, line_no: int, detail: str) -> None:
        self.count += 1
        if len(self.first_lines) < FIRST_LINES_KEPT:
            self.first_lines.append(line_no)
        if not self.example:
            self.example = detail


@dataclass
class ReplayReport:
    """What a replay did. ``rows_read`` always equals ``readings_sent`` + ``bad_rows``."""

    path: Path
    format_name: str
    rows_read: int = 0
    readings_sent: int = 0
    readings_stored: int = 0
    duplicates: int = 0
    meter_ids: set[str] = field(default_factory=set)
    bad: dict[str, BadRowTally] = field(default_factory=dict)

    @property
    def bad_rows(self) -> int:
        return sum(tally.count for tally in self.bad.values())

    def count_bad(self, line_no: int, bad: BadRowError) -> None:
        self.rows_read += 1
        self.bad.setdefault(bad.reason, BadRowTally()).add(line_no, bad.detail)

    def count_reading(self, reading: Reading) -> None:
        self.rows_read += 1
        self.readings_sent += 1
        self.meter_ids.add(reading.meter_id)

    def lines(self) -> list[str]:
        """The report as short human-readable lines."""
        out = [
            f"{self.path} ({self.format_name}): {self.rows_read} rows read, "
            f"{self.readings_sent} readings sent to {len(self.meter_ids)} meters, "
            f"{self.readings_stored} stored, {self.duplicates} duplicates, "
            f"{self.bad_rows} bad rows"
        ]
        for reason, tally in sorted(self.bad.items()):
            where = ", ".join(str(n) for n in tally.first_lines)
            out.append(f"  bad {reason}: {tally.count} (first lines {where}; e.g. {tally.example})")
        return out
