"""Rows for Cassandra, the same for every client: what to write, never how.

Writers (:mod:`cassandra_readings`, :mod:`cassandra_events`, :mod:`cassandra_totals`)
turn a batch into :class:`Write` s: an :class:`Insert` (table and columns), its values,
and the partition the row lands in (for grouping rows into batches). Each client's sink
prepares one statement per :class:`Insert` (:func:`insert_cql`) and binds the values:
:mod:`cassandra_sink` with ``cassandra-driver``, :mod:`acsylla_sink` with ``acsylla``.

Values are Python values: ``int`` epoch ms for timestamps, :class:`~datetime.date` for
dates, ``None`` for a cell to clear, and ``UNSET_VALUE``
(:func:`smart_meter.storage.binding.unset_if_none`) for an absent field, left unset
rather than written as a null (a null would write a tombstone for every missing field).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

DAY_MS = 86_400_000
MAX_PARTITIONS_PER_BATCH = 10  # Cassandra's unlogged_batch_across_partitions_warn_threshold
_EPOCH = date(1970, 1, 1)
R = TypeVar("R")


class Grouping(StrEnum):
    """What the rows of one UNLOGGED batch have in common."""

    PARTITION = "partition"
    REPLICA = "replica"


class Insert(NamedTuple):
    """An idempotent INSERT: rows are keyed by natural keys, so a rewrite replaces."""

    table: str
    columns: tuple[str, ...]


class Write(NamedTuple):
    """One row to write, and the partition it lands in (for grouping)."""

    insert: Insert
    values: tuple[Any, ...]
    partition: Hashable


def insert_cql(keyspace: str, insert: Insert, markers: Sequence[str] = ()) -> str:
    """The INSERT, its table named in full (Cassandra 5 warns about prepared statements that
    rely on ``USE``); ``markers``: each column's bind marker if not ``?``."""
    names = ", ".join(insert.columns)
    marks = ", ".join(markers or ["?"] * len(insert.columns))
    return f"INSERT INTO {keyspace}.{insert.table} ({names}) VALUES ({marks})"  # noqa: S608


@lru_cache(maxsize=4096)
def day_of(ts_ms: int) -> date:
    """The UTC day of an epoch-ms time (cached: a batch spans few days)."""
    return _EPOCH + timedelta(days=ts_ms // DAY_MS)


def month_of(ts_ms: int) -> date:
    """The first day of the UTC month of an epoch-ms time."""
    return day_of(ts_ms).replace(day=1)


def chunks(partitions: Iterable[list[R]], max_rows: int, max_partitions: int) -> list[list[R]]:
    """Rows cut into chunks of at most ``max_rows`` rows and ``max_partitions`` partitions,
    a partition's rows kept together where they fit."""
    chunked: list[list[R]] = [[]]
    partitions_in_chunk = 0
    for rows in partitions:
        if partitions_in_chunk == max_partitions:
            chunked.append([])
            partitions_in_chunk = 0
        partitions_in_chunk += 1
        for row in rows:
            if len(chunked[-1]) == max_rows:
                chunked.append([])
                partitions_in_chunk = 1
            chunked[-1].append(row)
    return [chunk for chunk in chunked if chunk]
