"""The values of :class:`Write` s bound to ``acsylla`` statements.

acsylla converts each value by the type of its prepared column, with two readings of
its own that differ from ``cassandra-driver``'s: a number for a ``timestamp`` column is
epoch *seconds*, and a :class:`~datetime.date` goes through the machine's local time
zone. So epoch ms become seconds (a float, checked to give the same ms back: acsylla
multiplies by 1000 and truncates) and dates become epoch seconds of their UTC midnight.
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


class Bindable(Protocol):
    def bind(self, index: int, value: Any) -> None: ...


def column_kinds(metadata: Metadata, keyspace: str, insert: Insert) -> tuple[Kind, ...]:
    """The kind of each column of ``insert``, from the schema (a missing one raises)."""
    columns = metadata.keyspaces[keyspace].tables[insert.table].columns
    kinds = []
    for name in insert.columns:
        cql_type = columns[name].cql_type
        kinds.append(Kind(cql_type) if cql_type in ("timestamp", "date") else Kind.AS_IS)
    return tuple(kinds)


def epoch_seconds(ts_ms: int) -> float | Decimal:
    """Epoch ms as the seconds acsylla takes (it binds ``int(seconds * 1000)``)."""
    seconds = ts_ms / 1000
    return seconds if int(seconds * 1000) == ts_ms else Decimal(ts_ms).scaleb(-3)


def date_seconds(day: date) -> int:
    """Epoch seconds of a day's UTC midnight."""
    return (day.toordinal() - _EPOCH_DAY) * _DAY_S


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
        else:
            statement.bind(index, date_seconds(value))
