"""Read back what a deployment of the streaming app stored, and what it should have.

Every table of a test keyspace is read whole (test keyspaces are small); the expected
flags of stored readings and the expected running totals come from a batch builder fed
each partition's messages in stream order, with no servers involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from streaming_app.runtime.batching import BatchBuilder, Incoming
from streaming_app.sinks.cassandra_readings import is_stored
from streaming_app.sinks.cassandra_totals import latest_totals
from streaming_app.sinks.metrics_sink import MetricsSink
from streaming_app.validation import demo_settings
from tests.integration.streaming_app_support import PARTITIONS, Outgoing
from tests.totals_expectations import STORED_COLUMNS, figures, stored_row


def rows(
    connections: ConnectionSettings, keyspace: str, table: str, columns: str
) -> list[tuple[Any, ...]]:
    """Every row of a table of the keyspace (small test keyspaces only)."""
    session = open_session(connections.model_copy(update={"cassandra_keyspace": keyspace}))
    try:
        found = session.execute(f"SELECT {columns} FROM {table}", timeout=60)
        return [tuple(_hashable(value) for value in row) for row in found]
    finally:
        session.cluster.shutdown()


def _hashable(value: Any) -> Any:
    if isinstance(value, str | bytes) or value is None:
        return value
    if isinstance(value, list | tuple):
        return tuple(value)
    if hasattr(value, "__iter__"):  # the driver's SortedSet
        return frozenset(value)
    return value


def drop_keyspace(connections: ConnectionSettings, keyspace: str) -> None:
    """Drop the deployment's Cassandra keyspace and its InfluxDB database (same name)."""
    session = open_session(connections, create_schema=False, bind=False)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    finally:
        session.cluster.shutdown()
    MetricsSink(connections.influxdb_url, keyspace).query(f'DROP DATABASE "{keyspace}"')


READING_FLAGS = "meter_id, ts, status, failed_rules, lateness, quality"
GAP_COLUMNS = "meter_id, start_ts, end_ts, missing_intervals, open, filled_at"
ALERT_COLUMNS = "day, kind, start_ts, meter_id, end_ts, value, threshold, unit"
VOLTAGE_COLUMNS = "meter_id, start_ts, end_ts, min_v, max_v, direction, duration, ongoing"
LATE_COLUMNS = "meter_id, ts, lateness"


@dataclass(frozen=True)
class Snapshot:
    """What a deployment stored: reading flags by key, and every event table as a set."""

    readings: dict[tuple[str, datetime], tuple[Any, ...]]
    gaps: frozenset[tuple[Any, ...]]
    alerts: frozenset[tuple[Any, ...]]
    voltage: frozenset[tuple[Any, ...]]
    late: frozenset[tuple[Any, ...]]
    totals: frozenset[tuple[Any, ...]]

    def reading_keys_ms(self) -> set[tuple[str, int]]:
        return {
            (meter, int(ts.replace(tzinfo=UTC).timestamp() * 1000)) for meter, ts in self.readings
        }

    def late_keys_ms(self) -> set[tuple[str, int]]:
        return {(row[0], int(row[1].replace(tzinfo=UTC).timestamp() * 1000)) for row in self.late}


def snapshot(connections: ConnectionSettings, keyspace: str) -> Snapshot:
    """Read back everything a deployment wrote to its keyspace."""
    readings = {
        (row[0], row[1]): row[2:]
        for row in rows(connections, keyspace, "readings_by_meter_day", READING_FLAGS)
    }
    totals = rows(connections, keyspace, "meter_totals_by_day", STORED_COLUMNS)
    return Snapshot(
        readings=readings,
        gaps=frozenset(rows(connections, keyspace, "gaps_by_meter", GAP_COLUMNS)),
        alerts=frozenset(rows(connections, keyspace, "alerts_by_day", ALERT_COLUMNS)),
        voltage=frozenset(rows(connections, keyspace, "voltage_events_by_meter", VOLTAGE_COLUMNS)),
        late=frozenset(rows(connections, keyspace, "late_events_by_day", LATE_COLUMNS)),
        totals=frozenset(stored_row(row) for row in totals),
    )


Flags = dict[tuple[str, datetime], tuple[Any, ...]]


async def expected_flags(sent: dict[int, list[tuple[int, Outgoing]]]) -> Flags:
    """Stored readings' flags as a validator per partition gives them, in stream order."""
    flags: Flags = {}
    for partition, messages in sent.items():
        builder = BatchBuilder(partition, PARTITIONS, demo_settings().validator())
        incoming = [Incoming(m.payload, f"p.{partition}", seq) for seq, m in messages]
        for checked in (await builder.build(incoming, 0)).batch.readings:
            if is_stored(checked):
                verdict = checked.verdict
                rules = frozenset(verdict.failed_rules) or None
                key = (verdict.meter_id, checked.reading.ts.replace(tzinfo=None))
                flags[key] = (verdict.status.value, rules, verdict.lateness.value, "A")
    return flags


async def expected_totals_rows(sent: dict[int, list[tuple[int, Outgoing]]]) -> frozenset[Any]:
    """The totals rows (as :attr:`Snapshot.totals`) a batch builder per partition leaves."""
    latest: dict[tuple[str, str], tuple[Any, ...]] = {}
    for partition, messages in sent.items():
        builder = BatchBuilder(partition, PARTITIONS, demo_settings().validator())
        incoming = [Incoming(m.payload, f"p.{partition}", seq) for seq, m in messages]
        for totals in latest_totals((await builder.build(incoming, 0)).batch.totals):
            latest[(totals.meter_id, totals.day)] = (totals.meter_id, totals.day, *figures(totals))
    return frozenset(latest.values())
