"""The sink limit of the pipeline benchmark: the reading rows the app writes (both reading
tables, the app's columns), raw, as prepared single-row INSERTs with many in flight, by
``acsylla`` (the best client from Python) and by ``cassandra-driver`` (the app's today),
with the client's and the Cassandra server's CPU per row over the same window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.concurrent import execute_concurrent
from cassandra.query import UNSET_VALUE

from bench.pipeline_stats import micros_per, per_second
from bench.proc_cpu import CpuWindow, Servers, this_process
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.insert_limit import (
    Insert,
    all_rows,
    insert_all,
    open_acsylla,
)
from smart_meter.storage.reading_columns import READING_TABLES
from smart_meter.storage.session import open_session

REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SinkRun:
    """One client writing every row of ``readings`` readings once."""

    client: str
    readings: int
    rows: int
    seconds: float
    client_cpu_s: float
    cassandra_cpu_s: float
    load: float

    @property
    def readings_per_s(self) -> float:
        return per_second(self.readings, self.seconds)

    @property
    def rows_per_s(self) -> float:
        return per_second(self.rows, self.seconds)

    @property
    def client_us_per_row(self) -> float:
        return micros_per(self.client_cpu_s, self.rows)

    @property
    def cassandra_us_per_row(self) -> float:
        return micros_per(self.cassandra_cpu_s, self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "readings": self.readings,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "readings_per_s": round(self.readings_per_s, 1),
            "rows_per_s": round(self.rows_per_s, 1),
            "client_cpu_us_per_row": round(self.client_us_per_row, 1),
            "cassandra_cpu_us_per_row": round(self.cassandra_us_per_row, 1),
            "load_1min": round(self.load, 2),
        }


async def _timed(
    session: Any, work: Sequence[tuple[Insert, Any]], in_flight: int
) -> tuple[float, int]:
    began = time.perf_counter()
    written = await insert_all(session, work, in_flight)
    return time.perf_counter() - began, written


@dataclass(frozen=True)
class SinkOptions:
    connections: ConnectionSettings
    servers: Servers
    in_flight: int = 256


def acsylla_run(options: SinkOptions, readings: Sequence[Reading], now_ms: int) -> SinkRun:
    """The rows of ``readings`` (fresh meter ids) through acsylla; CPU measured around the
    writes only (connecting and preparing are outside the window)."""
    rows = all_rows(readings, now_ms)
    window = _window(options.servers)

    async def measured() -> tuple[float, int]:
        session = await open_acsylla(options.connections)
        try:
            keyspace = options.connections.cassandra_keyspace
            inserts = {
                table: await Insert.prepare(session, keyspace, table, columns)
                for table, columns in READING_TABLES.items()
            }
            work = [(inserts[table], values) for table, values in rows]
            window.start()
            try:
                return await _timed(session, work, options.in_flight)
            finally:
                window.stop()
        finally:
            await session.close()

    seconds, written = asyncio.run(measured())
    return _sink_run("acsylla", len(readings), written, seconds, window)


def driver_run(options: SinkOptions, readings: Sequence[Reading], now_ms: int) -> SinkRun:
    """The same rows through cassandra-driver's ``execute_concurrent`` (prepared, unset
    for absent values), ``min(in_flight, 128)`` in flight (the driver's useful most)."""
    session = open_session(options.connections)
    # as long as acsylla's: a loaded server is slow
    session.get_execution_profile(EXEC_PROFILE_DEFAULT).request_timeout = REQUEST_TIMEOUT_S
    try:
        prepared = {
            table: _driver_prepare(session, table, columns)
            for table, columns in READING_TABLES.items()
        }
        work = [
            (prepared[table], tuple(UNSET_VALUE if v is None else v for v in values))
            for table, values in all_rows(readings, now_ms)
        ]
        window = _window(options.servers)
        window.start()
        began = time.perf_counter()
        execute_concurrent(
            session, work, concurrency=min(options.in_flight, 128), raise_on_first_error=True
        )
        seconds = time.perf_counter() - began
        window.stop()
    finally:
        session.cluster.shutdown()
    return _sink_run("cassandra-driver", len(readings), len(work), seconds, window)


def _driver_prepare(session: Any, table: str, columns: Sequence[str]) -> Any:
    names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
    statement = session.prepare(
        f"INSERT INTO {session.keyspace}.{table} ({names}) VALUES ({marks})"
    )
    statement.is_idempotent = True
    return statement


def _window(servers: Servers) -> CpuWindow:
    pids: dict[str, list[int]] = {"client": this_process()}
    if servers.cassandra is not None:
        pids["cassandra"] = [servers.cassandra]
    return CpuWindow(pids)


def _sink_run(client: str, readings: int, rows: int, seconds: float, window: CpuWindow) -> SinkRun:
    return SinkRun(
        client=client,
        readings=readings,
        rows=rows,
        seconds=seconds,
        client_cpu_s=window.spent.get("client", float("nan")),
        cassandra_cpu_s=window.spent.get("cassandra", float("nan")),
        load=window.load,
    )
