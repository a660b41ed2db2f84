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
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

import orjson
from pydantic import TypeAdapter

from smart_meter.energy.attribution import HALF_HOUR_MS, split_energy, to_mwh
from smart_meter.energy.tariff import Tariff
from smart_meter.reading import Reading

TOTALS_VERSION = 1
MWH_PER_KWH = Decimal(1_000_000)
PERIODS_KEPT = 4096  # half-hours whose local day and price are remembered (85 days)


@dataclass(frozen=True, slots=True)
class DayTotal:
    """A finished day: energy (mWh), cost, its half-hours (UTC start ms, mWh), and the
    month to date at its end."""

    meter_id: str
    day: str
    energy_mwh: int
    cost: Decimal
    half_hours: tuple[tuple[int, int], ...]
    month_mwh: int
    month_cost: Decimal


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


_ADAPTER: TypeAdapter[MeterTotals] = TypeAdapter(MeterTotals)


class RunningTotals:
    """Totals of many meters under one tariff and time zone."""

    def __init__(self, tariff: Tariff, zone: tzinfo = UTC) -> None:
        self.tariff, self.zone = tariff, zone
        self._meters: dict[str, MeterTotals] = {}
        self._periods: dict[int, tuple[str, Decimal]] = {}

    def __len__(self) -> int:
        return len(self._meters)

    def totals(self, meter_id: str) -> MeterTotals | None:
        """The meter's running totals (read-only by convention)."""
        return self._meters.get(meter_id)

    def add_reading(self, reading: Reading) -> list[DayTotal | MonthTotal]:
        return self.add(reading.meter_id, reading.ts_ms, reading.import_wh)

    def add(
        self, meter_id: str, ts_ms: int, register_wh: float, energy_wh: float | None = None
    ) -> list[DayTotal | MonthTotal]:
        """Count a reading; ``energy_wh`` overrides the register difference (a rollover)."""
        state = self._meters.setdefault(meter_id, MeterTotals())
        return self.count(meter_id, state, ts_ms, register_wh, energy_wh)

    def count(
        self,
        meter_id: str,
        state: MeterTotals,
        ts_ms: int,
        register_wh: float,
        energy_wh: float | None = None,
    ) -> list[DayTotal | MonthTotal]:
        """:meth:`add` into totals kept by the caller (a rule's per-meter state)."""
        register_mwh = to_mwh(register_wh)
        if state.last_ts_ms is None:
            state.last_ts_ms, state.last_register_mwh = ts_ms, register_mwh
            self._roll(meter_id, state, self._day_of(ts_ms))
            return []
        if ts_ms <= state.last_ts_ms:
            return []
        energy = register_mwh - state.last_register_mwh if energy_wh is None else to_mwh(energy_wh)
        start_ms, state.last_ts_ms, state.last_register_mwh = state.last_ts_ms, ts_ms, register_mwh
        closed: list[DayTotal | MonthTotal] = []
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

    def _roll(self, meter_id: str, state: MeterTotals, day: str) -> list[DayTotal | MonthTotal]:
        if day <= state.day:
            return []
        closed: list[DayTotal | MonthTotal] = []
        if state.day:
            half_hours = tuple(sorted(state.half_hours_mwh.items()))
            closed.append(
                DayTotal(
                    meter_id,
                    state.day,
                    state.day_mwh,
                    state.day_cost,
                    half_hours,
                    state.month_mwh,
                    state.month_cost,
                )
            )
        if day[:7] != state.month and state.month:
            closed.append(MonthTotal(meter_id, state.month, state.month_mwh, state.month_cost))
        if day[:7] != state.month:
            state.month, state.month_mwh, state.month_cost = day[:7], 0, Decimal(0)
        state.day, state.day_mwh, state.day_cost, state.half_hours_mwh = day, 0, Decimal(0), {}
        return closed

    def evict_idle(self, now_ms: int, ttl_ms: int) -> list[str]:
        """Forget meters with no reading newer than ``now_ms - ttl_ms``."""
        idle = [m for m, s in self._meters.items() if (s.last_ts_ms or 0) < now_ms - ttl_ms]
        for meter_id in idle:
            del self._meters[meter_id]
        return idle

    def meter_state(self, meter_id: str) -> bytes | None:
        """One meter's totals as versioned bytes."""
        state = self._meters.get(meter_id)
        if state is None:
            return None
        body: dict[str, Any] = {"v": TOTALS_VERSION, "meter_id": meter_id}
        body["totals"] = _ADAPTER.dump_python(state, mode="json")
        return orjson.dumps(body)

    def load_meter_state(self, data: bytes) -> str:
        """Restore one meter's totals from :meth:`meter_state`; returns its id."""
        body = orjson.loads(data)
        version = body.get("v") if isinstance(body, dict) else None
        if version != TOTALS_VERSION:
            raise ValueError(f"totals state version {version!r} is not {TOTALS_VERSION}")
        meter_id = str(body["meter_id"])
        self._meters[meter_id] = _ADAPTER.validate_python(body["totals"])
        return meter_id
