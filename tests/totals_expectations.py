"""What the totals table should hold: the totals arithmetic fed every reading directly.

``expected_totals(readings)`` maps (meter, day) to the figures of a ``meter_totals_by_day``
row (:data:`FIGURES`): the final figures of every day a later reading ended, and each
meter's day in progress as it stood after the last reading that began an hour of event
time (the app writes the day so far at most once an hour of event time, by default).
Meant for clean streams, where every reading counts.
:func:`stored_row` reads a row of the table back in the same terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, tzinfo
from typing import Any

from smart_meter.energy.attribution import HALF_HOUR_MS
from smart_meter.energy.tariff import Tariff, load_tariff
from smart_meter.reading import Reading
from streaming_app.totals import DayTotals, MeterTotals, MonthTotal, RunningTotals

FIGURES = ("energy_mwh", "cost", "half_hours", "month_mwh", "month_cost", "final")
STORED_COLUMNS = (
    "meter_id, day, energy_mwh, cost, half_hours_from, half_hours_mwh, month_energy_mwh, "
    "month_cost, final"
)
Expected = dict[tuple[str, str], tuple[Any, ...]]


class TotalsTable:
    """The arithmetic with each meter's state kept here, as the engine keeps it for the app."""

    def __init__(self, tariff: Tariff, zone: tzinfo = UTC, **options: int) -> None:
        self.arithmetic = RunningTotals(tariff, zone, **options)
        self.meters: dict[str, MeterTotals] = {}

    def add(
        self, meter_id: str, ts_ms: int, register_wh: float, energy_wh: float | None = None
    ) -> list[DayTotals | MonthTotal]:
        state = self.meters.setdefault(meter_id, MeterTotals())
        return self.arithmetic.count(meter_id, state, ts_ms, register_wh, energy_wh)

    def add_reading(self, reading: Reading) -> list[DayTotals | MonthTotal]:
        return self.add(reading.meter_id, reading.ts_ms, reading.import_wh)

    def totals(self, meter_id: str) -> MeterTotals | None:
        return self.meters.get(meter_id)


def figures(totals: DayTotals) -> tuple[Any, ...]:
    """A :class:`DayTotals` as :data:`FIGURES`."""
    return tuple(getattr(totals, name) for name in FIGURES)


def expected_totals(readings: Iterable[Reading], running_every_min: int = 60) -> Expected:
    """The figures of each meter-day, from the default tariff in UTC days: the rows as the
    app writes them, in reading order, the last write of each key kept."""
    totals, rows = TotalsTable(load_tariff()), {}
    slot_ms = running_every_min * 60_000
    for reading in readings:
        before = totals.totals(reading.meter_id)
        before_ms = None if before is None else before.last_ts_ms
        for closed in totals.add_reading(reading):
            if isinstance(closed, DayTotals):
                rows[(closed.meter_id, closed.day)] = (
                    closed.energy_mwh, closed.cost, closed.half_hours, closed.month_mwh,
                    closed.month_cost, True,
                )  # fmt: skip
        state = totals.totals(reading.meter_id)
        assert state is not None and state.last_ts_ms is not None
        if state.last_ts_ms != before_ms and (
            before_ms is None or slot_ms == 0 or state.last_ts_ms // slot_ms != before_ms // slot_ms
        ):
            rows[(reading.meter_id, state.day)] = (
                state.day_mwh, state.day_cost, tuple(sorted(state.half_hours_mwh.items())),
                state.month_mwh, state.month_cost, False,
            )  # fmt: skip
    return rows


def stored_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row of :data:`STORED_COLUMNS` as (meter, day, *FIGURES), half-hours as pairs."""
    meter_id, day, energy_mwh, cost, first, energies, month_mwh, month_cost, final = row
    start_ms = 0 if first is None else int(first.replace(tzinfo=UTC).timestamp() * 1000)
    half_hours = tuple((start_ms + i * HALF_HOUR_MS, mwh) for i, mwh in enumerate(energies or ()))
    return (meter_id, str(day), energy_mwh, cost, half_hours, month_mwh, month_cost, final)
