"""Rows that carry one meter's interval energy (kWh) → readings with a built register.

Shared by the generic and the LCL formats: they differ only in where the columns
are and which zone their naive times are in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from inject.replay.core import FormatOptions
from inject.replay.fields import (
    EnergyRegister,
    LocalTimeResolver,
    MeterIds,
    check_column_count,
    make_reading,
    parse_energy_kwh,
    parse_iso_time,
)
from smart_meter.reading import Reading


@dataclass(frozen=True)
class IntervalColumns:
    """Positions of the meter, time and energy columns, their names, and the row width."""

    meter: int
    time: int
    energy: int
    names: tuple[str, ...]


class IntervalEnergyParser:
    """One file's rows → readings; each meter's register starts at 0 Wh (see EnergyRegister)."""

    def __init__(self, options: FormatOptions, columns: IntervalColumns, zone: ZoneInfo) -> None:
        self.columns = columns
        self.times = LocalTimeResolver(options.timezone or zone)
        self.register = EnergyRegister()
        self.meter_ids = MeterIds(options)

    def parse(self, fields: Sequence[str]) -> Reading:
        columns = self.columns
        check_column_count(fields, len(columns.names))
        meter_id = self.meter_ids(fields[columns.meter])
        local = parse_iso_time(fields[columns.time], columns.names[columns.time])
        ts = self.times.to_utc(meter_id, local)
        energy_kwh = parse_energy_kwh(fields[columns.energy], columns.names[columns.energy])
        import_wh = self.register.after_kwh(meter_id, energy_kwh)
        reading = make_reading(meter_id=meter_id, ts=ts, import_wh=import_wh)
        self.times.commit(meter_id, ts)
        self.register.commit(meter_id, import_wh)
        return reading
