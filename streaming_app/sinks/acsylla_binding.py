"""The values of :class:`Write` s bound to ``acsylla`` statements.

acsylla converts each value by the type of its prepared column, with readings of its own
that differ from ``cassandra-driver``'s, so three column types are converted here:

- ``timestamp``: acsylla takes a number as epoch *seconds* (it binds ``int(s * 1000)``):
  epoch ms become seconds, a float checked to give the same ms back;
- ``date``: acsylla reads a :class:`~datetime.date` through the machine's local time
  zone: dates become epoch seconds of their UTC midnight;
- ``decimal``: acsylla 1.2.0 sends a decimal's text where the protocol wants its
  unscaled integer (12.5 is stored as 82,537,221.3), so a decimal column is written through
  ``blobAsDecimal(?)`` and bound as the protocol's bytes (scale, then the unscaled
  two's-complement integer).

``UNSET_VALUE`` is not bound at all (the C++ driver sends a value never bound as
*unset*: no tombstone); ``None`` is bound as a null.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol

from cassandra.metadata import Metadata
from cassandra.query import UNSET_VALUE

from streaming_app.sinks.cassandra_rows import Insert

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_DAY_S = 86_400


class Kind(Enum):
    """How a column's values reach acsylla."""

    AS_IS = "as is"
    TIMESTAMP = "timestamp"
    DATE = "date"
    DECIMAL = "decimal"

    @property
    def marker(self) -> str:
        """The column's bind marker in the INSERT."""
        return "blobAsDecimal(?)" if self is Kind.DECIMAL else "?"


class Bindable(Protocol):
    def bind(self, index: int, value: Any) -> None: ...


def column_kinds(metadata: Metadata, keyspace: str, insert: Insert) -> tuple[Kind, ...]:
    """The kind of each column of ``insert``, from the schema (a missing one raises)."""
    columns = metadata.keyspaces[keyspace].tables[insert.table].columns
    converted = {kind.value for kind in Kind}
    kinds = []
    for name in insert.columns:
        cql_type = columns[name].cql_type
        kinds.append(Kind(cql_type) if cql_type in converted else Kind.AS_IS)
    return tuple(kinds)


def epoch_seconds(ts_ms: int) -> float | Decimal:
    """Epoch ms as the seconds acsylla takes (it binds ``int(seconds * 1000)``)."""
    seconds = ts_ms / 1000
    return seconds if int(seconds * 1000) == ts_ms else Decimal(ts_ms).scaleb(-3)


def date_seconds(day: date) -> int:
    """Epoch seconds of a day's UTC midnight."""
    return (day.toordinal() - _EPOCH_DAY) * _DAY_S


def decimal_bytes(value: Decimal) -> bytes:
    """A decimal as the protocol serialises it: 4-byte scale, then the unscaled integer."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite decimal: {value}")
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    # The fewest bytes of two's complement: -128 is one byte (0x80), 128 is two.
    length = (unscaled if unscaled >= 0 else ~unscaled).bit_length() // 8 + 1
    return (-exponent).to_bytes(4, "big", signed=True) + unscaled.to_bytes(
        length, "big", signed=True
    )


def bind_values(statement: Bindable, kinds: Sequence[Kind], values: Sequence[Any]) -> None:
    """Bind ``values`` in column order; unset ones stay unbound."""
    for index, value in enumerate(values):
        if value is UNSET_VALUE:
            continue
        kind = kinds[index]
        if value is None or kind is Kind.AS_IS:
            statement.bind(index, value)
        elif kind is Kind.TIMESTAMP:
            statement.bind(index, epoch_seconds(value))
        elif kind is Kind.DATE:
            statement.bind(index, date_seconds(value))
        else:
            statement.bind(index, decimal_bytes(Decimal(value)))
