"""Running totals to ``meter_totals_by_day``: one row per meter-day and batch, the latest.

A batch carries the days its readings ended and, at most once per meter and slot of
event time, a meter's day so far (:attr:`ProcessedBatch.totals`, see
:mod:`streaming_app.totals.aggregator`); only the last figures of each (meter, day) are
written, so a batch writes at most one row per meter-day however many readings it holds,
and none for a meter whose readings neither ended a day nor began a slot. Rows are
keyed by (meter, local month, local day) and overwritten whole: the half-hours are one
frozen list (the energies of consecutive half-hours from the first one's UTC start),
replaced in a single cell (no tombstones), and writing a batch again, or after a crash,
leaves the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from smart_meter.storage.binding import unset_if_none
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.cassandra_rows import Insert, Write
from streaming_app.totals import DayTotals

TOTALS_COLUMNS = (
    "meter_id", "month", "day", "energy_mwh", "cost", "currency", "half_hours_from",
    "half_hours_mwh", "month_energy_mwh", "month_cost", "through_ts", "final",
)  # fmt: skip
TOTALS = Insert("meter_totals_by_day", TOTALS_COLUMNS)


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


def totals_writes(batch: ProcessedBatch) -> list[Write]:
    """One write per meter-day of the batch, its latest figures."""
    writes = []
    for totals in latest_totals(batch.totals):
        values = totals_values(totals)
        writes.append(Write(TOTALS, values, ("d", totals.meter_id, values[1])))
    return writes
