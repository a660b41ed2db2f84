"""Running totals per meter: day and month to date, half-hours of the day, cost to date.

The energy between two readings of a meter is split over half-hours in proportion to
time (:func:`split_energy`), each part priced by the tariff of its half-hour, and added
to its half-hour, day and month; days and months are local to ``zone`` (whose UTC offset
must be whole half-hours). The current day is the one the newest reading falls in; when
a day or month ends, its final total is returned once (a day with the month to date at
its end). A reading older than the newest
adds nothing (the interval it falls in is already counted in full; only the split inside
it would change), nor does a falling register (the register rule says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from smart_meter.energy.attribution import HALF_HOUR_MS, split_energy, to_mwh
from smart_meter.energy.tariff import Tariff

MWH_PER_KWH = Decimal(1_000_000)
PERIODS_KEPT = 4096  # half-hours whose local day and price are remembered (85 days)


@dataclass(frozen=True, slots=True)
class DayTotals:
    """A meter's totals of one local day, counted up to ``through_ms``: energy (mWh), cost,
    half-hours (UTC start ms, mWh) and the month to date; ``final`` once the day has ended.
    Batches carry these apart from their events: they are figures, not findings."""

    meter_id: str
    day: str
    energy_mwh: int
    cost: Decimal
    half_hours: tuple[tuple[int, int], ...]
    month_mwh: int
    month_cost: Decimal
    currency: str
    through_ms: int
    final: bool


def day_end_ms(day: str, zone: tzinfo) -> int:
    """Epoch ms of the local midnight that ends ``day`` (ISO date)."""
    midnight = datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), zone)
    return int(midnight.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class MonthTotal:
    """A finished month (``YYYY-MM``): energy (mWh) and cost."""

    meter_id: str
    month: str
    energy_mwh: int
    cost: Decimal


@dataclass(slots=True)
class MeterTotals:
    """One meter's running totals (the state saved per meter)."""

    last_ts_ms: int | None = None
    last_register_mwh: int = 0
    day: str = ""
    month: str = ""
    day_mwh: int = 0
    month_mwh: int = 0
    day_cost: Decimal = Decimal(0)
    month_cost: Decimal = Decimal(0)
    half_hours_mwh: dict[int, int] = field(default_factory=dict)


class RunningTotals:
    """The totals arithmetic of one tariff and time zone; meters' states are the caller's.

    An interval longer than ``max_interval_ms`` (a meter silent for weeks, or a reading
    dated years ahead of the one before) is not spread over the days between: the day in
    progress is closed and counting restarts at the new reading, so one reading adds at
    most ``max_interval_ms`` / 30 min half-hours and closes at most that many days plus
    one. Batch estimation fills such stretches.
    """

    def __init__(
        self, tariff: Tariff, zone: tzinfo = UTC, *, max_interval_ms: int = 7 * 86_400_000
    ) -> None:
        self.tariff, self.zone, self.max_interval_ms = tariff, zone, max_interval_ms
        self._periods: dict[int, tuple[str, Decimal]] = {}

    def count(
        self,
        meter_id: str,
        state: MeterTotals,
        ts_ms: int,
        register_wh: float,
        energy_wh: float | None = None,
    ) -> list[DayTotals | MonthTotal]:
        """Count a reading into ``state``; ``energy_wh`` overrides the register difference
        (a rollover). Returns the days and months the reading ended."""
        register_mwh = to_mwh(register_wh)
        if state.last_ts_ms is None:
            state.last_ts_ms, state.last_register_mwh = ts_ms, register_mwh
            self._roll(meter_id, state, self._day_of(ts_ms))
            return []
        if ts_ms <= state.last_ts_ms:
            return []
        if ts_ms - state.last_ts_ms > self.max_interval_ms:
            state.last_ts_ms, state.last_register_mwh = ts_ms, register_mwh
            return self._roll(meter_id, state, self._day_of(ts_ms))
        energy = register_mwh - state.last_register_mwh if energy_wh is None else to_mwh(energy_wh)
        start_ms, state.last_ts_ms, state.last_register_mwh = state.last_ts_ms, ts_ms, register_mwh
        closed: list[DayTotals | MonthTotal] = []
        for period_ms, part in split_energy(start_ms, ts_ms, max(energy, 0)):
            day, price_per_mwh = self._period(period_ms)
            closed += self._roll(meter_id, state, day)
            state.half_hours_mwh[period_ms] = state.half_hours_mwh.get(period_ms, 0) + part
            state.day_mwh += part
            state.month_mwh += part
            cost = price_per_mwh * part
            state.day_cost += cost
            state.month_cost += cost
        return closed + self._roll(meter_id, state, self._day_of(ts_ms))

    def _period(self, period_ms: int) -> tuple[str, Decimal]:
        """Local day (ISO) and price per mWh of the half-hour starting at ``period_ms``."""
        found = self._periods.get(period_ms)
        if found is None:
            if len(self._periods) >= PERIODS_KEPT:
                self._periods.clear()
            local = self._local(period_ms)
            price_per_mwh = self.tariff.price_at(local) / MWH_PER_KWH  # exact: a power of ten
            found = self._periods[period_ms] = (local.date().isoformat(), price_per_mwh)
        return found

    def _day_of(self, ts_ms: int) -> str:
        """The local day of ``ts_ms``: its half-hour's (local midnights are half-hours)."""
        return self._period(ts_ms - ts_ms % HALF_HOUR_MS)[0]

    def _local(self, ts_ms: int) -> datetime:
        local = datetime.fromtimestamp(ts_ms / 1000, self.zone)
        if ts_ms % 1_800_000 == 0 and (local.minute % 30 or local.second):
            raise ValueError(f"time zone {self.zone} is not offset from UTC by whole half-hours")
        return local

    def _roll(self, meter_id: str, state: MeterTotals, day: str) -> list[DayTotals | MonthTotal]:
        if day <= state.day:
            return []
        closed: list[DayTotals | MonthTotal] = []
        if state.day:
            half_hours = tuple(sorted(state.half_hours_mwh.items()))
            closed.append(
                DayTotals(
                    meter_id,
                    state.day,
                    state.day_mwh,
                    state.day_cost,
                    half_hours,
                    state.month_mwh,
                    state.month_cost,
                    self.tariff.currency,
                    day_end_ms(state.day, self.zone),
                    final=True,
                )
            )
        if day[:7] != state.month and state.month:
            closed.append(MonthTotal(meter_id, state.month, state.month_mwh, state.month_cost))
        if day[:7] != state.month:
            state.month, state.month_mwh, state.month_cost = day[:7], 0, Decimal(0)
        state.day, state.day_mwh, state.day_cost, state.half_hours_mwh = day, 0, Decimal(0), {}
        return closed
