"""The replay formats by name, and auto-detection from a file's first line."""

from __future__ import annotations

import csv
from pathlib import Path

from inject.replay.core import CsvFormat, ReplayError
from inject.replay.generic import GENERIC
from inject.replay.lcl import LCL_STD, LCL_TSTP
from inject.replay.ps2024 import PS2024
from inject.replay.uci import UCI

# Detection order: exact headers first, the header-less ps2024 (a data row) last.
FORMATS: dict[str, CsvFormat] = {fmt.name: fmt for fmt in (LCL_STD, LCL_TSTP, UCI, GENERIC, PS2024)}
AUTO = "auto"


def first_line(path: Path) -> str:
    """The file's first line, without a UTF-8 byte-order mark or line ending."""
    with path.open("rb") as binary:
        raw = binary.readline()
    return raw.decode("utf-8-sig", errors="replace").rstrip("\r\n")


def detect_format(line: str) -> CsvFormat | None:
    """The first format whose header (or first row) ``line`` is, or ``None``."""
    for fmt in FORMATS.values():
        fields = next(csv.reader([line], delimiter=fmt.delimiter), [])
        if fmt.accepts_first_row(fields):
            return fmt
    return None


def resolve_format(path: Path, name: str = AUTO) -> CsvFormat:
    """The format called ``name``, or the one detected from the file's first line."""
    if name != AUTO:
        if name not in FORMATS:
            raise ReplayError(f"unknown format {name!r}; known: {AUTO}, {', '.join(FORMATS)}")
        return FORMATS[name]
    line = first_line(path)
    fmt = detect_format(line)
    if fmt is None:
        raise ReplayError(f"{path}:1: no known format starts with {line[:120]!r}")
    return fmt
