"""How a mart table is described: its columns (kind, meaning), natural key and date range.

One description serves three purposes: the DDL and its ``COMMENT ON`` text, the check of
the batch job's DataFrame before anything is written, and the rows handed to ``COPY``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a column holds; each maps to one PostgreSQL type and one Python conversion."""

    TEXT = "text"
    DATE = "date"
    MONTH = "month"
    INT = "integer"
    BIGINT = "bigint"
    FLOAT = "double precision"
    DECIMAL = "numeric"
    TIMESTAMP = "timestamptz"
    BOOL = "boolean"

    @property
    def sql_type(self) -> str:
        return "date" if self is Kind.MONTH else str(self.value)


class RangeUnit(StrEnum):
    """How a table's rows belong to a refresh's date range ``first_day..last_day``."""

    DAY = "day"
    """the range column is a local day inside the range"""
    MONTH = "month"
    """the range column is the first day of a month the range touches"""
    INSTANT = "instant"
    """the range column is a time inside the range's local days"""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    comment: str
    nullable: bool = False

    def ddl(self) -> str:
        return f"{self.name} {self.kind.sql_type}{'' if self.nullable else ' NOT NULL'}"


@dataclass(frozen=True)
class Table:
    """One table of the mart, keyed by its natural key, refreshed by its range column."""

    name: str
    comment: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    range_column: str
    range_unit: RangeUnit
    indexes: tuple[tuple[str, ...], ...] = ()
    checks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = self.column_names
        unknown = {*self.key, self.range_column, *(c for i in self.indexes for c in i)} - {*names}
        if unknown:
            raise ValueError(f"table {self.name}: unknown columns {sorted(unknown)}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)
