"""Running batch jobs in tests (local Spark, the real Cassandra) and reading what they wrote."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from batch_app.api import BatchReport, run_app_batch
from batch_app.settings import BatchSettings
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session

UTC_SETTINGS = BatchSettings(time_zone="UTC", master="local[2]")


def run_job(
    connections: ConnectionSettings,
    job: str,
    first: date,
    last: date,
    meters: Sequence[str],
    settings: BatchSettings = UTC_SETTINGS,
) -> BatchReport:
    return run_app_batch(
        job, first, last, meters, settings=settings, connections=connections, quiet=True
    )


def months_of(days: Iterable[date]) -> list[date]:
    return sorted({d.replace(day=1) for d in days})


def select(
    connections: ConnectionSettings, statement: str, keys: Iterable[tuple[Any, ...]]
) -> list[Any]:
    """Every row ``statement`` (with ``?`` markers) returns for each key tuple."""
    session = open_session(connections)
    try:
        prepared = session.prepare(statement)
        return [row for key in keys for row in session.execute(prepared, key)]
    finally:
        session.cluster.shutdown()


def insert_actual_readings(
    connections: ConnectionSettings,
    rows: Iterable[tuple[str, int, float, str | None]],
    temperature_c: Callable[[int], float | None] = lambda ts_ms: None,
) -> None:
    """``(meter, epoch ms, register Wh, transformer)`` stored as accepted actual readings,
    as the streaming app stores a clean reading (temperature as ``temperature_c(ts)``)."""
    session = open_session(connections)
    try:
        insert = session.prepare(
            "INSERT INTO readings_by_meter_day (meter_id, day, ts, transformer_id, import_wh, "
            "temperature_c, quality, status, lateness) "
            "VALUES (?, ?, ?, ?, ?, ?, 'A', 'accepted', 'ON_TIME')"
        )
        for meter, ts_ms, register_wh, transformer in rows:
            when = datetime.fromtimestamp(ts_ms / 1000, UTC)
            values = (meter, when.date(), when, transformer, register_wh, temperature_c(ts_ms))
            session.execute(insert, values)
    finally:
        session.cluster.shutdown()
