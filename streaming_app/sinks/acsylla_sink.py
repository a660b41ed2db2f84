"""The Cassandra sink over ``acsylla`` (asyncio over the DataStax C++ driver): the same
rows as :class:`~streaming_app.sinks.cassandra_sink.CassandraSink`
(:mod:`cassandra_writes`), the same idempotent natural keys, a fraction of the client CPU
per row (``python -m bench.cassandra_sink_bench`` measures both).

- Statements are prepared once per INSERT; absent fields stay unset
  (:mod:`acsylla_binding`).
- Routing is token-aware (the C++ driver sends a statement, or a batch by its first
  statement, to a replica of its partition). Rows go in UNLOGGED batches of at most
  ``max_batch_rows`` rows grouped as the driver's sink groups them (:mod:`cassandra_packing`):
  by replica set by default (partitions owned by the same replicas, at most 10 a batch,
  so the coordinator applies the batch locally; the ring is read with ``cassandra-driver``
  at open, :mod:`acsylla_replicas`), or by partition.
- Back-pressure: at most ``concurrency`` requests in flight per sink, however many
  batches are being written at once; a batch's write returns once all its rows are in.
- Binding runs on the event loop (it is compiled code; there is no thread hop).

Errors that say "not now" (no host, timeouts, unavailable replicas, overload, broken
connections) become :class:`TransientSinkError`; anything else (an invalid query, a value
of the wrong type) is a bug and propagates. The schema is ensured with
``cassandra-driver`` when the sink opens (:mod:`smart_meter.storage.schema` says why).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import acsylla
from acsylla import errors

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.acsylla_cluster import acsylla_cluster
from smart_meter.storage.session import open_session
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.acsylla_binding import Kind, bind_values, column_kinds
from streaming_app.sinks.acsylla_replicas import ReplicaSets
from streaming_app.sinks.base import TransientSinkError
from streaming_app.sinks.cassandra_rows import (
    MAX_PARTITIONS_PER_BATCH,
    Grouping,
    Insert,
    Write,
    chunks,
    insert_cql,
)
from streaming_app.sinks.cassandra_sink import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_BATCH_ROWS,
    call_off_loop,
)
from streaming_app.sinks.cassandra_writes import INSERTS, batch_writes

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    errors.CassErrorLibNoHostsAvailable,
    errors.CassErrorLibRequestTimedOut,
    errors.CassErrorLibUnableToConnect,
    errors.CassErrorLibRequestQueueFull,
    errors.CassErrorLibNoStreams,
    errors.CassErrorLibWriteError,
    errors.CassErrorLibUnableToDetermineProtocol,
    errors.CassExceptionConnectionError,
    errors.CassErrorServerUnavailable,
    errors.CassErrorServerOverloaded,
    errors.CassErrorServerIsBootstrapping,
    errors.CassErrorServerWriteTimeout,
    errors.CassErrorServerReadTimeout,
    errors.CassErrorServerWriteFailure,
    errors.CassErrorServerReadFailure,
    errors.CassErrorSslClosed,
    OSError,
)
"""acsylla errors that mean "the cluster cannot take this now": retry the batch later."""


def _not_the_shard_notice(record: logging.LogRecord) -> bool:
    """acsylla's driver (ScyllaDB's fork of the DataStax C++ driver) logs an ERROR on every
    connection to Apache Cassandra, which has no shards: not an error here."""
    return not record.getMessage().startswith("Could not retrieve sharding info")


logging.getLogger("acsylla").addFilter(_not_the_shard_notice)


class Prepared:
    """An INSERT prepared by acsylla, and how each of its columns is bound."""

    def __init__(self, statement: Any, kinds: tuple[Kind, ...]) -> None:
        self.statement, self.kinds = statement, kinds

    def bound(self, values: Sequence[Any]) -> Any:
        statement = self.statement.bind()
        bind_values(statement, self.kinds, values)
        return statement


class AcsyllaSink:
    """Writes readings, events and totals of each batch to Cassandra with acsylla."""

    name = "cassandra"

    def __init__(
        self,
        session: Any,
        prepared: dict[Insert, Prepared],
        replicas: ReplicaSets,
        *,
        max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS,
        concurrency: int = DEFAULT_CONCURRENCY,
        grouping: Grouping = Grouping.REPLICA,
    ) -> None:
        """Use :meth:`open`: it prepares the statements and reads the ring."""
        if max_batch_rows < 1 or concurrency < 1:
            raise ValueError("max_batch_rows and concurrency must be at least 1")
        self.session, self._prepared, self._replicas = session, prepared, replicas
        self.max_batch_rows, self.concurrency, self.grouping = max_batch_rows, concurrency, grouping
        self._in_flight = asyncio.Semaphore(concurrency)

    def configured(
        self, *, max_batch_rows: int, concurrency: int, grouping: Grouping
    ) -> AcsyllaSink:
        """A sink with other limits over the same session (closing either closes both)."""
        return AcsyllaSink(
            self.session,
            self._prepared,
            self._replicas,
            max_batch_rows=max_batch_rows,
            concurrency=concurrency,
            grouping=grouping,
        )

    @classmethod
    async def open(
        cls,
        settings: ConnectionSettings,
        *,
        max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS,
        concurrency: int = DEFAULT_CONCURRENCY,
        grouping: Grouping = Grouping.REPLICA,
        host_listener: Callable[[acsylla.HostListenerEvent, str], None] | None = None,
    ) -> AcsyllaSink:
        """Ensure the schema, connect, prepare; a cluster out of reach is transient.
        ``host_listener`` is told when the C++ driver sees a host go down or come up."""
        kinds, replicas = await call_off_loop(cls.name, lambda: read_schema(settings))
        cluster = acsylla_cluster(settings, host_listener_callback=host_listener)
        keyspace = settings.cassandra_keyspace
        try:
            session = await cluster.create_session(keyspace=keyspace)
        except TRANSIENT_ERRORS as error:
            raise transient(cls.name, error) from error
        try:
            prepared = {}
            for insert, kind in kinds.items():
                cql = insert_cql(keyspace, insert, [column.marker for column in kind])
                prepared[insert] = Prepared(await session.create_prepared(cql), kind)
        except BaseException as error:
            await session.close()
            if isinstance(error, TRANSIENT_ERRORS):
                raise transient(cls.name, error) from error
            raise
        return cls(
            session,
            prepared,
            replicas,
            max_batch_rows=max_batch_rows,
            concurrency=concurrency,
            grouping=grouping,
        )

    async def write(self, batch: ProcessedBatch) -> None:
        """Write the batch's stored readings, events and totals; raise to have it retried."""
        await self.write_rows(batch_writes(batch))

    async def write_rows(self, writes: Sequence[Write]) -> int:
        """Write these rows; returns how many. After a failure no further request starts."""
        statements = self.statements(writes)
        pending = iter(statements)
        stop = asyncio.Event()

        async def worker() -> None:
            for is_batch, statement in pending:
                async with self._in_flight:
                    if stop.is_set():
                        return
                    try:
                        await self._execute(is_batch, statement)
                    except BaseException:
                        stop.set()
                        raise

        workers = min(self.concurrency, len(statements))
        results = await asyncio.gather(*(worker() for _ in range(workers)), return_exceptions=True)
        failures = [result for result in results if isinstance(result, BaseException)]
        bugs = [error for error in failures if not isinstance(error, TRANSIENT_ERRORS)]
        if bugs:
            raise bugs[0]
        if failures:
            raise transient(self.name, failures[0]) from failures[0]
        return len(writes)

    async def _execute(self, is_batch: bool, statement: Any) -> None:
        if is_batch:
            await self.session.execute_batch(statement)
        else:
            await self.session.execute(statement)

    def statements(self, writes: Iterable[Write]) -> list[tuple[bool, Any]]:
        """(is a batch, statement): rows grouped by partition, or by the replica set of
        their partitions, in UNLOGGED batches of at most ``max_batch_rows`` rows and
        :data:`MAX_PARTITIONS_PER_BATCH` partitions; a row alone where nothing shares."""
        groups: dict[Hashable, dict[Hashable, list[Write]]] = {}
        by_replicas = self.grouping is Grouping.REPLICA and self.max_batch_rows > 1
        for write in writes:
            group = self._replicas.of(write) if by_replicas else write.partition
            groups.setdefault(group, {}).setdefault(write.partition, []).append(write)
        return [
            self._statement(rows)
            for partitions in groups.values()
            for rows in chunks(partitions.values(), self.max_batch_rows, MAX_PARTITIONS_PER_BATCH)
        ]

    def _statement(self, rows: Sequence[Write]) -> tuple[bool, Any]:
        if len(rows) == 1:
            statement = self._prepared[rows[0].insert].bound(rows[0].values)
            statement.set_is_idempotent(True)
            return False, statement
        batch = acsylla.create_batch_unlogged()
        batch.set_is_idempotent(True)
        for row in rows:
            batch.add_statement(self._prepared[row.insert].bound(row.values))
        return True, batch

    async def close(self) -> None:
        """Close the session (requests in flight finish first)."""
        await self.session.close()


def transient(sink: str, error: BaseException) -> TransientSinkError:
    return TransientSinkError(sink, f"{type(error).__name__}: {error}")


def read_schema(
    settings: ConnectionSettings,
) -> tuple[dict[Insert, tuple[Kind, ...]], ReplicaSets]:
    """Ensure the schema (``cassandra-driver``); how each INSERT's columns bind, and the
    ring."""
    session = open_session(settings, bind=False)
    try:
        metadata, keyspace = session.cluster.metadata, settings.cassandra_keyspace
        kinds = {insert: column_kinds(metadata, keyspace, insert) for insert in INSERTS}
        return kinds, ReplicaSets.read(session, keyspace, INSERTS)
    finally:
        session.cluster.shutdown()
