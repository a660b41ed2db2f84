"""How fast the Cassandra server takes rows: prepared single-row INSERTs through
``acsylla`` (asyncio over the DataStax C++ driver), many in flight.

Not a writer of the platform (the streaming app's sinks are): the benchmark and the demo
use it to measure the *sink limit*, the rate at which the best client available from
Python writes the same rows into the same Cassandra, beside which the app's own rate is
read. Absent values are left unbound (unset, no tombstone), as the app binds them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.acsylla_cluster import acsylla_cluster
from smart_meter.storage.reading_columns import BY_METER_TABLE, BY_TRANSFORMER_TABLE

DEFAULT_IN_FLIGHT = 256
DAY_MS = 86_400_000

Row = tuple[str, tuple[Any, ...]]


def reading_rows(reading: Reading, ingested_at_ms: int) -> list[Row]:
    """(table, values) of the rows the app stores for an accepted, on-time reading;
    ``None`` for an absent value."""
    grid = reading.grid
    ts_ms = reading.ts_ms
    day = date(1970, 1, 1) + timedelta(days=ts_ms // DAY_MS)
    flags = (
        reading.seq,
        reading.import_wh,
        list(reading.voltage_v) if reading.voltage_v else None,
        list(reading.current_a) if reading.current_a else None,
        reading.temperature_c,
        grid.line_id if grid else None,
        grid.usage_point_id if grid else None,
        "A",
        None,
        "ON_TIME",
        "ACCEPTED",
        ingested_at_ms,
    )
    transformer = grid.transformer_id if grid else None
    rows: list[Row] = [(BY_METER_TABLE, (reading.meter_id, day, ts_ms, transformer, *flags))]
    if transformer is not None:
        rows.append((BY_TRANSFORMER_TABLE, (transformer, day, reading.meter_id, ts_ms, *flags)))
    return rows


def all_rows(readings: Iterable[Reading], ingested_at_ms: int) -> list[Row]:
    return [row for reading in readings for row in reading_rows(reading, ingested_at_ms)]


async def open_acsylla(settings: ConnectionSettings, keyspace: str | None = None) -> Any:
    """An ``acsylla`` session on the settings' Cassandra (token-aware, TCP_NODELAY), bound
    to ``keyspace`` (default: the settings' keyspace; it must exist)."""
    cluster = acsylla_cluster(settings, request_timeout=30.0)
    return await cluster.create_session(keyspace=keyspace or settings.cassandra_keyspace)


@dataclass(frozen=True)
class Insert:
    """A prepared idempotent INSERT of ``columns`` into ``table``."""

    table: str
    columns: tuple[str, ...]
    prepared: Any

    @classmethod
    async def prepare(
        cls, session: Any, keyspace: str, table: str, columns: Sequence[str]
    ) -> Insert:
        names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
        cql = f"INSERT INTO {keyspace}.{table} ({names}) VALUES ({marks})"  # noqa: S608
        return cls(table, tuple(columns), await session.create_prepared(cql))

    def bound(self, values: Sequence[object]) -> Any:
        """A statement with every present value bound; ``None`` stays unset."""
        if len(values) != len(self.columns):
            raise ValueError(f"{self.table}: {len(values)} values for {len(self.columns)} columns")
        statement = self.prepared.bind()
        for index, value in enumerate(values):
            if value is not None:
                statement.bind(index, value)
        statement.set_is_idempotent(True)
        return statement


async def insert_all(
    session: Any, rows: Iterable[tuple[Insert, Sequence[object]]], in_flight: int
) -> int:
    """Execute every row, at most ``in_flight`` at once; the rows written. The first
    failure is raised (the other workers stop taking rows)."""
    source: Iterator[tuple[Insert, Sequence[object]]] = iter(rows)
    written = 0

    async def worker() -> None:
        nonlocal written
        for insert, values in source:
            await session.execute(insert.bound(values))
            written += 1

    workers = [asyncio.create_task(worker()) for _ in range(max(1, in_flight))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    return written


@dataclass(frozen=True)
class Written:
    """``rows`` written in ``seconds`` (wall time)."""

    rows: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")


async def timed_insert_all(
    session: Any, rows: Sequence[tuple[Insert, Sequence[object]]], in_flight: int
) -> Written:
    """:func:`insert_all`, timed."""
    began = time.perf_counter()
    count = await insert_all(session, rows, in_flight)
    return Written(count, time.perf_counter() - began)
