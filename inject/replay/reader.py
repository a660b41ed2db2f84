"""Stream a CSV file row by row (never the whole file) into readings and bad rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from inject.replay.core import BadRowError, CsvFormat, FormatOptions, ReplayError, RowParser
from smart_meter.reading import Reading

if TYPE_CHECKING:
    from _csv import Reader as CsvRows

BOM = "\ufeff"


@dataclass(frozen=True)
class RowOutcome:
    """One data row: its line number and either its reading or why it is bad."""

    line_no: int
    reading: Reading | None = None
    bad: BadRowError | None = None


class CsvReader:
    """The rows of one file in one format; ``bytes_read`` follows the stream for progress."""

    def __init__(self, path: Path, fmt: CsvFormat, options: FormatOptions) -> None:
        self.path, self.format, self.options = path, fmt, options
        self.size_bytes = path.stat().st_size
        self.bytes_read = 0

    def _lines(self, binary: BinaryIO) -> Iterator[str]:
        for number, raw in enumerate(binary):
            self.bytes_read += len(raw)
            text = raw.decode("utf-8", errors="replace")
            yield text.removeprefix(BOM) if number == 0 else text

    def rows(self) -> Iterator[RowOutcome]:
        """Every data row in file order (the header, if any, is not a row)."""
        with self.path.open("rb") as binary:
            rows = csv.reader(self._lines(binary), delimiter=self.format.delimiter)
            first = next(rows, None)
            if first is None:
                return
            parser = self._parser_for(first)
            if not self.format.is_header(first):
                yield _parse(parser, rows.line_num, first)
            yield from _parse_rest(parser, rows)

    def _parser_for(self, first: list[str]) -> RowParser:
        if self.format.is_header(first):
            return self.format.parser(self.options, first)
        if self.format.header_required:
            raise ReplayError(f"{self.path}:1: not a {self.format.name} header: {first}")
        return self.format.parser(self.options, None)


def _parse_rest(parser: RowParser, rows: CsvRows) -> Iterator[RowOutcome]:
    while True:
        try:
            fields = next(rows)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a quoted field that swallows the file's rest
            yield RowOutcome(rows.line_num, bad=BadRowError("unreadable_line", str(error)))
            continue
        yield _parse(parser, rows.line_num, fields)


def _parse(parser: RowParser, line_no: int, fields: list[str]) -> RowOutcome:
    if not fields:
        return RowOutcome(line_no, bad=BadRowError("empty_line", "no fields"))
    try:
        return RowOutcome(line_no, reading=parser.parse(fields))
    except BadRowError as bad:
        return RowOutcome(line_no, bad=bad)
