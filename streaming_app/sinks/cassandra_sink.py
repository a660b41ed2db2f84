"""The Cassandra sink over ``cassandra-driver``: readings with their flags, the events and
the running totals of a batch (:mod:`cassandra_writes`), idempotently.

Rows are bound, grouped by replica set (or by partition, see :mod:`cassandra_packing`) into
UNLOGGED batches of at most ``max_batch_rows`` rows, and sent with at most
``concurrency`` requests in flight by the driver's ``execute_concurrent``. Grouping by
replica set is the default because the common live batch holds one reading per meter,
one row per meter-day partition: per-partition batches then degrade to single
statements (``python -m bench.cassandra_sink_bench`` measures all three).

All driver work, building rows included, runs in a worker thread (``asyncio.to_thread``):
the event loop keeps serving NATS while Cassandra answers. Errors that say "not now" (no
host, timeouts, unavailable replicas, overload, broken connections) become
:class:`TransientSinkError`; anything else (an invalid query) is a bug and propagates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from cassandra import CoordinationFailure, OperationTimedOut, Timeout, Unavailable
from cassandra.cluster import NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent
from cassandra.connection import ConnectionBusy, ConnectionException
from cassandra.protocol import IsBootstrappingErrorMessage, OverloadedErrorMessage

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.base import TransientSinkError
from streaming_app.sinks.cassandra_packing import pack_statements, prepare
from streaming_app.sinks.cassandra_rows import Grouping
from streaming_app.sinks.cassandra_writes import INSERTS, batch_writes

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    NoHostAvailable,
    OperationTimedOut,
    Unavailable,
    Timeout,
    CoordinationFailure,
    ConnectionException,
    ConnectionBusy,
    OverloadedErrorMessage,
    IsBootstrappingErrorMessage,
    OSError,
)
"""Driver errors that mean "the cluster cannot take this now": retry the batch later."""

DEFAULT_MAX_BATCH_ROWS = 16
DEFAULT_CONCURRENCY = 64
T = TypeVar("T")


async def call_off_loop(sink: str, function: Callable[[], T]) -> T:
    """Run blocking driver code in a thread; transient errors as :class:`TransientSinkError`."""
    try:
        return await asyncio.to_thread(function)
    except TRANSIENT_ERRORS as error:
        raise TransientSinkError(sink, f"{type(error).__name__}: {error}") from error


class CassandraSink:
    """Writes readings and events of each batch to Cassandra."""

    name = "cassandra"

    def __init__(
        self,
        session: Session,
        *,
        max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS,
        concurrency: int = DEFAULT_CONCURRENCY,
        grouping: Grouping = Grouping.REPLICA,
        owns_session: bool = False,
    ) -> None:
        """Prepares the statements (a blocking call: use :meth:`open` from async code)."""
        if max_batch_rows < 1 or concurrency < 1:
            raise ValueError("max_batch_rows and concurrency must be at least 1")
        self.session = session
        self.max_batch_rows = max_batch_rows
        self.concurrency = concurrency
        self.grouping = grouping
        self._owns_session = owns_session
        self._prepared = prepare(session, INSERTS)

    @classmethod
    async def open(
        cls,
        settings: ConnectionSettings,
        *,
        max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS,
        concurrency: int = DEFAULT_CONCURRENCY,
        grouping: Grouping = Grouping.REPLICA,
    ) -> CassandraSink:
        """Connect, ensure the schema, prepare; a cluster out of reach is transient."""

        def connect() -> CassandraSink:
            session = open_session(settings)
            try:
                return cls(
                    session,
                    max_batch_rows=max_batch_rows,
                    concurrency=concurrency,
                    grouping=grouping,
                    owns_session=True,
                )
            except BaseException:
                session.cluster.shutdown()
                raise

        return await call_off_loop(cls.name, connect)

    async def write(self, batch: ProcessedBatch) -> None:
        """Write the batch's stored readings, events and totals; raise to have it retried."""
        await call_off_loop(self.name, lambda: self.write_blocking(batch))

    def write_blocking(self, batch: ProcessedBatch) -> int:
        """The same, in the calling thread; returns the number of rows written."""
        writes = batch_writes(batch)
        statements = pack_statements(
            self.session,
            self._prepared,
            writes,
            max_batch_rows=self.max_batch_rows,
            grouping=self.grouping,
        )
        if statements:
            execute_concurrent(
                self.session, statements, concurrency=self.concurrency, raise_on_first_error=True
            )
        return len(writes)

    async def close(self) -> None:
        """Shut the cluster connection down if this sink opened it."""
        if self._owns_session:
            await asyncio.to_thread(self.session.cluster.shutdown)
