"""The batch results a refresh writes, one DataFrame per mart table, checked before writing.

Each frame must have the columns of its table (extra columns are ignored), values of
the column's kind, no empty value where the table has none, no key twice, and only rows
inside the refresh window: a row outside it would survive the next refresh of its own
range, so it is refused rather than written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from batch_app.mart.columns import Table
from batch_app.mart.errors import MartFrameError
from batch_app.mart.tables import READINGS, TABLES
from batch_app.mart.values import python_values
from batch_app.mart.window import RefreshWindow

Row = tuple[Any, ...]


@dataclass(frozen=True)
class MartFrames:
    """What one batch run produced; columns as in :mod:`batch_app.mart.tables`."""

    meter_daily: pd.DataFrame
    meter_monthly: pd.DataFrame
    transformer_daily: pd.DataFrame
    transformer_monthly: pd.DataFrame
    completeness: pd.DataFrame
    gaps: pd.DataFrame
    alerts: pd.DataFrame
    readings: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=READINGS.column_names)
    )

    def frame(self, table: Table) -> pd.DataFrame:
        frame = getattr(self, table.name)
        if not isinstance(frame, pd.DataFrame):
            raise MartFrameError(table.name, f"is a {type(frame).__name__}, not a DataFrame")
        return frame

    @classmethod
    def empty(cls) -> MartFrames:
        """No rows in any table: a refresh with these empties the window."""
        return cls(**{table.name: pd.DataFrame(columns=table.column_names) for table in TABLES})


def table_rows(table: Table, frame: pd.DataFrame, window: RefreshWindow) -> list[Row]:
    """The frame's rows in the table's column order, or :class:`MartFrameError`."""
    missing = tuple(name for name in table.column_names if name not in frame.columns)
    if missing:
        raise MartFrameError(
            table.name,
            f"missing column(s) {', '.join(missing)}; expected {', '.join(table.column_names)}",
            missing,
        )
    columns = {column.name: _column_values(table, column.name, frame) for column in table.columns}
    _check_window(table, columns[table.range_column], window)
    rows = list(zip(*columns.values(), strict=True))
    _check_unique(table, [tuple(columns[name][i] for name in table.key) for i in range(len(rows))])
    return rows


def all_rows(frames: MartFrames, window: RefreshWindow) -> dict[str, list[Row]]:
    """Every table's rows, all checked before any is written."""
    return {table.name: table_rows(table, frames.frame(table), window) for table in TABLES}


def _column_values(table: Table, name: str, frame: pd.DataFrame) -> list[Any]:
    column = table.column(name)
    try:
        values = python_values(column.kind, frame[name])
    except (ValueError, TypeError, ArithmeticError) as error:
        problem = f"column {name} ({column.kind.sql_type}) {str(error).splitlines()[0]}"
        raise MartFrameError(table.name, problem, (name,)) from None
    if not column.nullable:
        empty = [i for i, value in enumerate(values) if value is None]
        if empty:
            problem = f"column {name} has {len(empty)} empty value(s) (first in row {empty[0]})"
            raise MartFrameError(table.name, problem, (name,))
    return values


def _check_window(table: Table, values: list[Any], window: RefreshWindow) -> None:
    low, high = window.bounds(table.range_unit)
    outside = [value for value in values if not low <= value < high]
    if outside:
        raise MartFrameError(
            table.name,
            f"{len(outside)} row(s) outside the refresh range {window.label()} "
            f"({table.range_column} {outside[0]}, allowed {low} to before {high})",
            (table.range_column,),
        )


def _check_unique(table: Table, keys: list[Row]) -> None:
    seen: set[Row] = set()
    for key in keys:
        if key in seen:
            raise MartFrameError(
                table.name, f"key ({', '.join(table.key)}) = {key} appears twice", table.key
            )
        seen.add(key)
