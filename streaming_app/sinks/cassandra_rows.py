"""Rows for Cassandra: one write = a prepared statement, its values, and its partition.

Writers turn a batch into :class:`Write` s; :func:`pack_statements` binds them and packs
them into UNLOGGED batches, grouped

- by ``partition``: one partition per batch, one mutation on the server;
- by ``replica`` set (the default): partitions owned by the same replicas share a batch
  of at most ``max_partitions`` partitions (the server warns above 10), so the
  coordinator, a replica itself with token-aware routing, applies the batch locally.
  This is the Spark Cassandra Connector's ``batch.grouping.key = replica_set``; it
  matters when a batch holds one row per partition (live readings of many meters).

Absent values are bound as ``UNSET_VALUE``, not ``None``: a null would write a
tombstone for every missing field.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement, Statement

DAY_MS = 86_400_000
MAX_PARTITIONS_PER_BATCH = 10  # Cassandra's unlogged_batch_across_partitions_warn_threshold
_EPOCH = date(1970, 1, 1)


class Grouping(StrEnum):
    """What the rows of one UNLOGGED batch have in common."""

    PARTITION = "partition"
    REPLICA = "replica"


class Write(NamedTuple):
    """One row to write, and the partition it lands in (for grouping)."""

    statement: PreparedStatement
    values: tuple[Any, ...]
    partition: Hashable


def prepare(session: Session, table: str, columns: Sequence[str]) -> PreparedStatement:
    """A prepared, idempotent INSERT (rows are keyed by natural keys) into the session's
    keyspace, named in full (Cassandra 5 warns about prepared statements that rely on
    ``USE``)."""
    if not session.keyspace:
        raise ValueError("the session has no keyspace (open it with open_session)")
    names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
    cql = f"INSERT INTO {session.keyspace}.{table} ({names}) VALUES ({marks})"  # noqa: S608
    statement = session.prepare(cql)
    statement.is_idempotent = True
    return statement


@lru_cache(maxsize=4096)
def day_of(ts_ms: int) -> date:
    """The UTC day of an epoch-ms time (cached: a batch spans few days)."""
    return _EPOCH + timedelta(days=ts_ms // DAY_MS)


def month_of(ts_ms: int) -> date:
    """The first day of the UTC month of an epoch-ms time."""
    return day_of(ts_ms).replace(day=1)


def pack_statements(
    session: Session,
    writes: Iterable[Write],
    *,
    max_batch_rows: int,
    grouping: Grouping = Grouping.REPLICA,
    max_partitions: int = MAX_PARTITIONS_PER_BATCH,
) -> list[tuple[Statement, Any]]:
    """Statements to execute: the writes bound, grouped, and packed into UNLOGGED batches.

    ``max_batch_rows=1`` sends every row alone (no batches at all).
    """
    groups: dict[Hashable, dict[Hashable, list[Statement]]] = {}
    replicas = ReplicaLookup(session) if grouping is Grouping.REPLICA else None
    for write in writes:
        bound = write.statement.bind(write.values)
        group = write.partition if replicas is None else replicas.of(write.partition, bound)
        groups.setdefault(group, {}).setdefault(write.partition, []).append(bound)
    statements: list[tuple[Statement, Any]] = []
    for partitions in groups.values():
        for rows in chunks(partitions.values(), max_batch_rows, max_partitions):
            statements.append(_statement(rows))
    return statements


class ReplicaLookup:
    """The replica set of each partition, looked up once per partition."""

    def __init__(self, session: Session) -> None:
        self._metadata = session.cluster.metadata
        self._keyspace = session.keyspace
        self._known: dict[Hashable, Hashable] = {}

    def of(self, partition: Hashable, bound: Statement) -> Hashable:
        found = self._known.get(partition)
        if found is None:
            hosts = self._metadata.get_replicas(self._keyspace, bound.routing_key)
            found = tuple(sorted(str(host.endpoint) for host in hosts)) or partition
            self._known[partition] = found
        return found


def chunks(
    partitions: Iterable[list[Statement]], max_rows: int, max_partitions: int
) -> list[list[Statement]]:
    """Rows cut into chunks of at most ``max_rows`` rows and ``max_partitions`` partitions,
    a partition's rows kept together where they fit."""
    chunked: list[list[Statement]] = [[]]
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


def _statement(rows: Sequence[Statement]) -> tuple[Statement, Any]:
    if len(rows) == 1:
        return rows[0], None
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    batch.is_idempotent = True
    for row in rows:
        batch.add(row)
    return batch, None
