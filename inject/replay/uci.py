"""The UCI "Individual household electric power consumption" format (one house).

``Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;
Sub_metering_1;Sub_metering_2;Sub_metering_3``: ``;``-separated, day-first dates
without zero padding (``11/1/2007``), values with trailing spaces, ``?`` for a missing
value. Each row is one minute of one meter (``UCI-1`` unless ``--meter-id``).

* Time: the house is in Sceaux near Paris, so naive times are read as
  ``Europe/Paris`` (or ``--timezone``). The shared 2006-12 excerpt lies wholly in
  winter time (CET = UTC+1), so ``17:24`` is ``16:24Z``. Across a clock change a time
  in the spring-forward hole is a ``nonexistent_local_time`` bad row and the repeated
  autumn hour is resolved by row order (:class:`~inject.replay.fields.LocalTimeResolver`);
  a source whose clock ignores daylight saving should be given a fixed zone
  (``--timezone Etc/GMT-1`` is UTC+1).
* Register: ``Global_active_power`` is the minute-averaged power in kW, so the row's
  energy is kW / 60 kWh, added to a register that starts at 0 Wh; the reading carries
  the register including its own minute. Minutes absent from the file (the grid
  jumps) add nothing: the register counts measured energy only.
* ``Voltage`` (V) becomes ``voltage_v`` (one phase), ``Global_intensity`` (A)
  ``current_a``. A ``?`` in any of the three is a ``missing_value`` bad row; the
  reactive power and sub-metering columns are not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from inject.replay.core import BadRowError, FormatOptions, ReplayError, RowParser
from inject.replay.fields import (
    MISSING_MARKERS,
    EnergyRegister,
    LocalTimeResolver,
    check_column_count,
    make_reading,
    parse_number,
)
from smart_meter.reading import Reading

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_METER_ID = "UCI-1"
MINUTES_PER_HOUR = 60.0
REQUIRED_COLUMNS = ("date", "time", "global_active_power", "voltage", "global_intensity")


def parse_day_first(date_text: str, time_text: str) -> datetime:
    """``16/12/2006`` and ``17:24:00`` (no zero padding needed) as a naive datetime."""
    date_clean, time_clean = date_text.strip(), time_text.strip()
    if date_clean.lower() in MISSING_MARKERS or time_clean.lower() in MISSING_MARKERS:
        raise BadRowError("missing_value", f"date/time is {date_text!r} {time_text!r}")
    date_parts, time_parts = date_clean.split("/"), time_clean.split(":")
    try:
        if len(date_parts) != 3 or len(time_parts) not in (2, 3):
            raise ValueError("not d/m/yyyy h:mm[:ss]")
        day, month, year = (int(part) for part in date_parts)
        hour, minute, second = (int(part) for part in [*time_parts, "0"][:3])
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise BadRowError("bad_timestamp", f"date/time is {date_text!r} {time_text!r}") from None


class UciParser:
    """Rows of one UCI file → readings of one meter with a register built from 0 Wh."""

    def __init__(self, options: FormatOptions, names: tuple[str, ...]) -> None:
        self.width = len(names)
        self.position = {name: names.index(name) for name in REQUIRED_COLUMNS}
        self.meter_id = f"{options.meter_prefix}{options.meter_id or DEFAULT_METER_ID}"
        self.times = LocalTimeResolver(options.timezone or PARIS)
        self.register = EnergyRegister()

    def _field(self, fields: Sequence[str], name: str) -> float:
        return parse_number(fields[self.position[name]], name)

    def parse(self, fields: Sequence[str]) -> Reading:
        check_column_count(fields, self.width)
        local = parse_day_first(fields[self.position["date"]], fields[self.position["time"]])
        ts = self.times.to_utc(self.meter_id, local)
        power_kw = self._field(fields, "global_active_power")
        voltage_v = self._field(fields, "voltage")
        current_a = self._field(fields, "global_intensity")
        if power_kw < 0:
            raise BadRowError("negative_energy", f"global_active_power is {power_kw} kW")
        import_wh = self.register.after_kwh(self.meter_id, power_kw / MINUTES_PER_HOUR)
        reading = make_reading(
            meter_id=self.meter_id,
            ts=ts,
            import_wh=import_wh,
            voltage_v=(voltage_v,),
            current_a=(current_a,),
        )
        self.times.commit(self.meter_id, ts)
        self.register.commit(self.meter_id, import_wh)
        return reading


def _names(row: Sequence[str]) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in row)


class UciFormat:
    """Recognised by a ``;``-separated header starting ``Date;Time;Global_active_power``."""

    name = "uci"
    delimiter = ";"
    header_required = True

    def is_header(self, first_row: Sequence[str]) -> bool:
        return set(REQUIRED_COLUMNS) <= set(_names(first_row))

    def accepts_first_row(self, first_row: Sequence[str]) -> bool:
        return self.is_header(first_row)

    def parser(self, options: FormatOptions, header: Sequence[str] | None) -> RowParser:
        names = _names(header or [])
        if not set(REQUIRED_COLUMNS) <= set(names):
            raise ReplayError(f"uci format needs the columns {REQUIRED_COLUMNS}; got {names}")
        return UciParser(options, names)


UCI = UciFormat()
