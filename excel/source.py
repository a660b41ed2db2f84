"""Reading a selection of meters and UTC days from Cassandra: readings with their flags,
daily energy and cost, gaps and alerts. Partitions are read concurrently, a chunk at a
time, and each chunk is reported to ``advance`` (the export's progress bar)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cassandra import DriverException
from cassandra.cluster import NoHostAvailable, Session
from cassandra.concurrent import execute_concurrent_with_args

from excel.errors import ExcelError, StoreUnreachableError
from excel.rows import DailyRow, EventRow, ExportData, ReadingRow
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.schema import event_bucket
from smart_meter.storage.session import open_session

CHUNK = 64
CONCURRENCY = 32
Advance = Callable[[int], None]
Keys = Sequence[tuple[Any, ...]]

READINGS_CQL = (
    "SELECT meter_id, ts, import_wh, voltage_v, current_a, temperature_c, quality, "
    "estimation_method, failed_rules, lateness, status FROM readings_by_meter_day "
    "WHERE meter_id = ? AND day = ?"
)
BATCH_DAYS_CQL = (
    "SELECT meter_id, day, energy_mwh, cost, currency, intervals, estimated_intervals "
    "FROM energy_by_meter_day WHERE meter_id = ? AND month = ?"
)
TOTALS_DAYS_CQL = (
    "SELECT meter_id, day, energy_mwh, cost, currency FROM meter_totals_by_day "
    "WHERE meter_id = ? AND month = ?"
)
GAPS_CQL = (
    "SELECT meter_id, start_ts, end_ts, missing_intervals, open, detected_by, filled_at "
    "FROM gaps_by_meter WHERE meter_id = ? AND month = ?"
)
ALERTS_CQL = (
    "SELECT kind, meter_id, start_ts, end_ts, value, threshold, unit, detail "
    "FROM alerts_by_day WHERE day = ? AND bucket = ?"
)


def days_of(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def months_of(first: date, last: date) -> list[date]:
    return sorted({d.replace(day=1) for d in days_of(first, last)})


def utc(when: datetime | None) -> datetime | None:
    """The driver's naive UTC timestamps made aware."""
    return None if when is None else when.replace(tzinfo=UTC)


def connect(connections: ConnectionSettings) -> Session:
    """A session on the platform's keyspace, without creating anything in it."""
    address = f"{','.join(connections.cassandra_hosts)}:{connections.cassandra_port}"
    try:
        session = open_session(connections, create_schema=False, bind=False)
    except NoHostAvailable as error:
        reasons = {type(e).__name__ for e in error.errors.values()} or {"no host"}
        raise StoreUnreachableError(address, ", ".join(sorted(reasons))) from None
    except (DriverException, OSError) as error:
        raise StoreUnreachableError(address, type(error).__name__) from None
    keyspace = connections.cassandra_keyspace
    found = session.execute(
        "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = %s", (keyspace,)
    ).one()
    if found is None:
        session.cluster.shutdown()
        raise ExcelError(
            f"keyspace {keyspace} does not exist in Cassandra at {address}: "
            "set SMART_METER_CASSANDRA_KEYSPACE to the platform's keyspace"
        )
    session.set_keyspace(keyspace)
    return session


class Reader:
    """Reads one selection through one session."""

    def __init__(self, session: Session, advance: Advance = lambda n: None) -> None:
        self.session = session
        self.advance = advance

    def rows(self, statement: str, keys: Keys) -> list[Any]:
        prepared = self.session.prepare(statement)
        found: list[Any] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            results = execute_concurrent_with_args(
                self.session, prepared, chunk, concurrency=CONCURRENCY, raise_on_first_error=True
            )
            for result in results:
                found.extend(result.result_or_exc)
            self.advance(len(chunk))
        return found

    def meters_with_readings(self, first: date, last: date) -> list[str]:
        """Every meter with a reading partition in the range (a scan of partition keys)."""
        scan = self.session.execute("SELECT DISTINCT meter_id, day FROM readings_by_meter_day")
        return sorted({row.meter_id for row in scan if first <= row.day.date() <= last})

    def export(self, meters: Sequence[str], first: date, last: date) -> ExportData:
        data = ExportData(first, last)
        days, months = days_of(first, last), months_of(first, last)
        found = self.rows(READINGS_CQL, [(m, d) for m in meters for d in days])
        data.readings = sorted((reading_row(r) for r in found), key=lambda r: (r.meter_id, r.ts))
        by_month = [(m, month) for m in meters for month in months]
        data.daily = self.daily(by_month, first, last)
        data.events = self.gaps(by_month, first, last) + self.alerts(meters, days)
        data.events.sort(key=lambda e: (e.start, e.meter_id, e.kind))
        return data

    def daily(self, by_month: Keys, first: date, last: date) -> list[DailyRow]:
        batch = {(r.meter_id, r.day.date()): r for r in self.rows(BATCH_DAYS_CQL, by_month)}
        totals = {(r.meter_id, r.day.date()): r for r in self.rows(TOTALS_DAYS_CQL, by_month)}
        rows = [daily_row(row, "batch") for row in batch.values()]
        rows += [daily_row(row, "streaming") for key, row in totals.items() if key not in batch]
        return sorted(
            (r for r in rows if first <= r.day <= last), key=lambda r: (r.meter_id, r.day)
        )

    def gaps(self, by_month: Keys, first: date, last: date) -> list[EventRow]:
        return [
            gap_row(r) for r in self.rows(GAPS_CQL, by_month) if first <= r.start_ts.date() <= last
        ]

    def alerts(self, meters: Iterable[str], days: Sequence[date]) -> list[EventRow]:
        wanted = set(meters)
        buckets = sorted({event_bucket(m) for m in wanted})
        found = self.rows(ALERTS_CQL, [(d, b) for d in days for b in buckets])
        return [alert_row(r) for r in found if r.meter_id in wanted]


def reading_row(row: Any) -> ReadingRow:
    return ReadingRow(
        meter_id=row.meter_id,
        ts=row.ts.replace(tzinfo=UTC),
        import_wh=row.import_wh,
        voltage_v=tuple(row.voltage_v or ()),
        current_a=tuple(row.current_a or ()),
        temperature_c=row.temperature_c,
        quality=row.quality,
        estimation_method=row.estimation_method,
        failed_rules=tuple(sorted(row.failed_rules or ())),
        lateness=row.lateness,
        status=row.status,
    )


def daily_row(row: Any, source: str) -> DailyRow:
    return DailyRow(
        meter_id=row.meter_id,
        day=row.day.date(),
        energy_mwh=row.energy_mwh or 0,
        cost=row.cost,
        currency=row.currency,
        intervals=getattr(row, "intervals", None),
        estimated_intervals=getattr(row, "estimated_intervals", None),
        source=source,
    )


def gap_row(row: Any) -> EventRow:
    state = "open" if row.open else ("filled" if row.filled_at else "closed")
    return EventRow(
        kind="gap",
        meter_id=row.meter_id,
        start=row.start_ts.replace(tzinfo=UTC),
        end=utc(row.end_ts),
        missing_intervals=row.missing_intervals,
        detail=f"{state}, found by {row.detected_by}" if row.detected_by else state,
    )


def alert_row(row: Any) -> EventRow:
    return EventRow(
        kind=row.kind,
        meter_id=row.meter_id,
        start=row.start_ts.replace(tzinfo=UTC),
        end=utc(row.end_ts),
        value=row.value,
        threshold=row.threshold,
        unit=row.unit,
        detail=row.detail,
    )
