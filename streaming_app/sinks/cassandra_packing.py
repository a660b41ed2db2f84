"""``cassandra-driver`` statements for :class:`Write` s: prepared, bound, packed.

The writes are bound and packed into UNLOGGED batches, grouped

- by ``partition``: one partition per batch, one mutation on the server;
- by ``replica`` set (the default): partitions owned by the same replicas share a batch
  of at most ``max_partitions`` partitions (the server warns above 10), so the
  coordinator, a replica itself with token-aware routing, applies the batch locally.
  This is the Spark Cassandra Connector's ``batch.grouping.key = replica_set``; it
  matters when a batch holds one row per partition (live readings of many meters).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from cassandra.cluster import Session
from cassandra.query import BatchStatement, BatchType, PreparedStatement, Statement

from streaming_app.sinks.cassandra_rows import (
    MAX_PARTITIONS_PER_BATCH,
    Grouping,
    Insert,
    Write,
    chunks,
    insert_cql,
)


def prepare(session: Session, inserts: Iterable[Insert]) -> dict[Insert, PreparedStatement]:
    """Each INSERT prepared in the session's keyspace, marked idempotent."""
    if not session.keyspace:
        raise ValueError("the session has no keyspace (open it with open_session)")
    prepared = {}
    for insert in inserts:
        statement = session.prepare(insert_cql(session.keyspace, insert))
        statement.is_idempotent = True
        prepared[insert] = statement
    return prepared


def pack_statements(
    session: Session,
    prepared: Mapping[Insert, PreparedStatement],
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
        bound = prepared[write.insert].bind(write.values)
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


def _statement(rows: Sequence[Statement]) -> tuple[Statement, Any]:
    if len(rows) == 1:
        return rows[0], None
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    batch.is_idempotent = True
    for row in rows:
        batch.add(row)
    return batch, None
