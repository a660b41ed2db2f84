"""The demo's sink limit: a few seconds of raw prepared INSERTs of the app's reading rows
through ``acsylla`` into the demo keyspace, to print beside the app's own rate.

The rows belong to meters of their own (``sink-limit-<token>-M...``) on a day in 2001, far
from the demo's days, and their partitions are deleted at the end, so the demo's counts
and batch jobs never see them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inject.fleet import Fleet, FleetConfig
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.insert_limit import (
    Insert,
    Row,
    all_rows,
    insert_all,
    open_acsylla,
)
from smart_meter.storage.reading_columns import BY_METER_TABLE, BY_TRANSFORMER_TABLE, READING_TABLES

DAY = datetime(2001, 1, 1, tzinfo=UTC)
METERS, INTERVALS = 500, 48  # 24,000 readings, 48,000 rows: more than a few seconds' worth


@dataclass(frozen=True)
class SinkLimit:
    """``readings`` (two rows each) written in ``seconds``, ``in_flight`` at once."""

    readings: int
    rows: int
    seconds: float
    in_flight: int

    @property
    def readings_per_s(self) -> float:
        return self.readings / self.seconds if self.seconds > 0 else 0.0


def sink_rows(token: str) -> list[Row]:
    """The app's reading rows of a fleet's day, on meters and transformers of this run."""
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=1800), DAY)
    readings = [
        reading.model_copy(
            update={
                "meter_id": f"sink-limit-{token}-{reading.meter_id}",
                "grid": reading.grid.model_copy(
                    update={"transformer_id": f"sink-limit-{token}-{reading.grid.transformer_id}"}
                )
                if reading.grid
                else None,
            }
        )
        for _, interval in fleet.run(INTERVALS)
        for reading in interval
    ]
    return all_rows(readings, time.time_ns() // 1_000_000)


def _until(rows: Sequence[Row], inserts: dict[str, Insert], deadline: float) -> Iterator[Any]:
    for table, values in rows:
        if time.monotonic() >= deadline:
            return
        yield inserts[table], values


async def measure(
    connections: ConnectionSettings, seconds: float = 3.0, in_flight: int = 256
) -> SinkLimit:
    """Write for about ``seconds`` (or until the day's rows run out), then delete them."""
    token = secrets.token_hex(3)
    rows = sink_rows(token)
    keyspace = connections.cassandra_keyspace
    session = await open_acsylla(connections)
    try:
        inserts = {
            table: await Insert.prepare(session, keyspace, table, columns)
            for table, columns in READING_TABLES.items()
        }
        began = time.perf_counter()
        written = await insert_all(
            session, _until(rows, inserts, time.monotonic() + seconds), in_flight
        )
        elapsed = time.perf_counter() - began
        await _delete(session, keyspace, rows)
    finally:
        await session.close()
    readings = sum(1 for table, _ in rows[:written] if table == BY_METER_TABLE)
    return SinkLimit(readings, written, elapsed, in_flight)


async def _delete(session: Any, keyspace: str, rows: Sequence[Row]) -> None:
    """Delete the partitions the rows went to (one tombstone each)."""
    partitions = {(table, values[0], values[1]) for table, values in rows}
    key = {BY_METER_TABLE: "meter_id", BY_TRANSFORMER_TABLE: "transformer_id"}
    deletes = {
        table: await session.create_prepared(
            f"DELETE FROM {keyspace}.{table} WHERE {key[table]} = ? AND day = ?"  # noqa: S608
        )
        for table in key
    }
    work = [deletes[table].bind([partition, day]) for table, partition, day in partitions]
    await asyncio.gather(*(session.execute(statement) for statement in work))


def measure_sink_limit(connections: ConnectionSettings, seconds: float = 3.0) -> SinkLimit:
    return asyncio.run(measure(connections, seconds))
