"""A DataFrame column as the Python values ``COPY`` writes, by the kind of its mart column.

Missing values (None, NaN, NaT, NA) become ``None``; anything that does not fit the kind
(text in a number column, a fraction in a count, a time of day in a date) raises
``ValueError``, ``TypeError`` or ``ArithmeticError`` with the offending value, which the
frame check turns into one line naming table and column. Naive timestamps are UTC.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd

from batch_app.mart.columns import Kind

INT32_LIMIT = 2**31


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _texts(series: pd.Series) -> list[Any]:
    return [None if is_missing(v) else str(v) for v in series.tolist()]


def _date(value: object) -> date:
    if isinstance(value, datetime):  # pandas Timestamps too
        if value.tzinfo is not None:
            raise TypeError(f"holds {value}, a time with a zone; a day is a local date")
        if value.time() != time(0):
            raise ValueError(f"holds a time of day ({value}); a day is a date")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"holds {value!r} ({type(value).__name__}), not a date")


def _dates(series: pd.Series) -> list[Any]:
    return [None if is_missing(v) else _date(v) for v in series.tolist()]


def _months(series: pd.Series) -> list[Any]:
    days = _dates(series)
    stray = next((d for d in days if d is not None and d.day != 1), None)
    if stray is not None:
        raise ValueError(f"holds {stray}; a month is the first day of the month")
    return days


def _integer(value: object, limit: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(f"holds {value!r}, not a whole number")
    if not -limit <= value < limit:
        raise ValueError(f"holds {value}, out of range")
    return value


def _integers(limit: int) -> Callable[[pd.Series], list[Any]]:
    def convert(series: pd.Series) -> list[Any]:
        numbers = pd.to_numeric(series).tolist()
        return [None if is_missing(v) else _integer(v, limit) for v in numbers]

    return convert


def _float(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"holds {value}, not a finite number")
    return number


def _floats(series: pd.Series) -> list[Any]:
    return [None if is_missing(v) else _float(v) for v in pd.to_numeric(series).tolist()]


def _decimal(value: object) -> Decimal:
    if isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, Decimal | int | str):
        number = Decimal(value)
    else:
        raise TypeError(f"holds {value!r} ({type(value).__name__}), not a decimal number")
    if not number.is_finite():
        raise ValueError(f"holds {value}, not a finite number")
    return number


def _decimals(series: pd.Series) -> list[Any]:
    return [None if is_missing(v) else _decimal(v) for v in series.tolist()]


def _timestamps(series: pd.Series) -> list[Any]:
    stamps = pd.to_datetime(series, utc=True)
    return [None if is_missing(s) else s.to_pydatetime() for s in stamps.tolist()]


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"holds {value!r}, not true or false")
    return value


def _booleans(series: pd.Series) -> list[Any]:
    return [None if is_missing(v) else _boolean(v) for v in series.tolist()]


CONVERTERS: dict[Kind, Callable[[pd.Series], list[Any]]] = {
    Kind.TEXT: _texts,
    Kind.DATE: _dates,
    Kind.MONTH: _months,
    Kind.INT: _integers(INT32_LIMIT),
    Kind.BIGINT: _integers(2**63),
    Kind.FLOAT: _floats,
    Kind.DECIMAL: _decimals,
    Kind.TIMESTAMP: _timestamps,
    Kind.BOOL: _booleans,
}


def python_values(kind: Kind, series: pd.Series) -> list[Any]:
    """The column's values as ``date``, ``datetime`` (UTC), ``Decimal``, ``int``... or None."""
    return CONVERTERS[kind](series)
