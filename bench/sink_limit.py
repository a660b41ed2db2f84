"""The sink limit of the pipeline benchmark: the plainest writer of raw readings (one
prepared INSERT per reading, `execute_concurrent`), measured beside the app's own sink.
Not part of the product: the streaming app's Cassandra sink is the one writer of the table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args

from smart_meter.reading import Reading
from smart_meter.storage.binding import unset_if_none

_INSERT = """
INSERT INTO readings_by_meter_day (
    meter_id, day, ts, seq, import_wh, voltage_v, current_a, temperature_c,
    line_id, transformer_id, usage_point_id, quality, failed_rules, lateness, ingested_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class StoredReading:
    """A reading with the quality flags the streaming app gave it."""

    reading: Reading
    quality: str = "A"
    failed_rules: frozenset[str] = frozenset()
    lateness: str = "ON_TIME"


class ReadingStore:
    """Writes readings keyed by (meter, day, ts): a rewrite replaces, never duplicates."""

    def __init__(self, session: Session, concurrency: int = 64) -> None:
        self.session = session
        self.concurrency = concurrency
        self._insert = session.prepare(_INSERT)

    def write(self, rows: Sequence[StoredReading], ingested_at: datetime) -> None:
        """Write all rows; raise the first failure (nothing is acked on failure)."""
        results = execute_concurrent_with_args(
            self.session,
            self._insert,
            [_values(row, ingested_at) for row in rows],
            concurrency=self.concurrency,
            raise_on_first_error=True,
        )
        del results

    def count_between(self, meter_ids: Iterable[str], first: datetime, last: datetime) -> int:
        """Number of stored rows of these meters with ``first <= ts <= last``."""
        query = self.session.prepare(
            "SELECT COUNT(*) FROM readings_by_meter_day "
            "WHERE meter_id = ? AND day = ? AND ts >= ? AND ts <= ?"
        )
        days = [
            first.date() + timedelta(days=n) for n in range((last.date() - first.date()).days + 1)
        ]
        keys = [(meter, day, first, last) for meter in meter_ids for day in days]
        results = execute_concurrent_with_args(
            self.session, query, keys, concurrency=self.concurrency
        )
        return sum(int(result.result_or_exc.one()[0]) for result in results)


def _values(row: StoredReading, ingested_at: datetime) -> tuple[object, ...]:
    reading = row.reading
    grid = reading.grid
    values = (
        reading.meter_id,
        reading.ts.astimezone(UTC).date(),
        reading.ts,
        reading.seq,
        reading.import_wh,
        list(reading.voltage_v) if reading.voltage_v else None,
        list(reading.current_a) if reading.current_a else None,
        reading.temperature_c,
        grid.line_id if grid else None,
        grid.transformer_id if grid else None,
        grid.usage_point_id if grid else None,
        row.quality,
        set(row.failed_rules) or None,
        row.lateness,
        ingested_at,
    )
    return tuple(unset_if_none(value) for value in values)
