"""Running totals to ``meter_totals_by_day``: one row per meter-day and batch, the latest.

A batch carries the days its readings ended and each changed meter's day so far
(:attr:`ProcessedBatch.totals`); only the last figures of each (meter, day) are written,
so a batch writes at most one row per meter-day however many readings it holds. Rows are
keyed by (meter, local month, local day) and overwritten whole: the half-hours are one
frozen list (the energies of consecutive half-hours from the first one's UTC start),
replaced in a single cell (no tombstones), and writing a batch again, or after a crash,
leaves the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from cassandra.cluster import Session

from smart_meter.storage.binding import unset_if_none
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.cassandra_rows import Write, prepare
from streaming_app.totals import DayTotals

TOTALS_COLUMNS = (
    "meter_id", "month", "day", "energy_mwh", "cost", "currency", "half_hours_from",
    "half_hours_mwh", "month_energy_mwh", "month_cost", "through_ts", "final",
)  # fmt: skip


def latest_totals(totals: Iterable[DayTotals]) -> list[DayTotals]:
    """The last figures of each (meter, day), in the order those days first came."""
    return list({(t.meter_id, t.day): t for t in totals}.values())


def totals_values(totals: DayTotals) -> tuple[Any, ...]:
    """The values of :data:`TOTALS_COLUMNS` (a day begun by a reading at midnight has no
    half-hours yet: those cells are left unset)."""
    day, half_hours = date.fromisoformat(totals.day), totals.half_hours
    first_ms = half_hours[0][0] if half_hours else None
    return (
        totals.meter_id, day.replace(day=1), day, totals.energy_mwh, totals.cost,
        totals.currency, unset_if_none(first_ms), unset_if_none([e for _, e in half_hours] or None),
        totals.month_mwh, totals.month_cost, totals.through_ms, totals.final,
    )  # fmt: skip


class TotalsWriter:
    """Builds the totals rows of a batch."""

    def __init__(self, session: Session) -> None:
        self._insert = prepare(session, "meter_totals_by_day", TOTALS_COLUMNS)

    def writes(self, batch: ProcessedBatch) -> list[Write]:
        """One write per meter-day of the batch."""
        return [self._write(totals) for totals in latest_totals(batch.totals)]

    def _write(self, totals: DayTotals) -> Write:
        values = totals_values(totals)
        return Write(self._insert, values, ("d", totals.meter_id, values[1]))
