"""The ``timestamp;sensor_id;energy`` format of the PS2024 TP1 assignment files.

``;``-separated, no header line in the published files (a ``timestamp;sensor_id;energy``
header is accepted), times ``2024-02-01 00:28:54`` without offset, ``energy`` the
meter's cumulative import register in Wh, sent as it is (no register is built, and
a register that goes down is replayed as it is for the streaming app to flag).

Zone: the meters are Portuguese (the assignment's provider is SU Eletricidade), so
naive times are read as ``Europe/Lisbon``; the files cover February 2024, when
Lisbon is on WET = UTC+0, so the readings' UTC times equal the wall-clock times.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from inject.replay.core import BadRowError, FormatOptions, RowParser
from inject.replay.fields import (
    LocalTimeResolver,
    MeterIds,
    check_column_count,
    make_reading,
    parse_iso_time,
    parse_number,
)
from smart_meter.reading import Reading

LISBON = ZoneInfo("Europe/Lisbon")
HEADER = ("timestamp", "sensor_id", "energy")


class Ps2024Parser:
    """Rows of one PS2024 file → readings carrying the file's register."""

    def __init__(self, options: FormatOptions) -> None:
        self.times = LocalTimeResolver(options.timezone or LISBON)
        self.meter_ids = MeterIds(options)

    def parse(self, fields: Sequence[str]) -> Reading:
        check_column_count(fields, len(HEADER))
        meter_id = self.meter_ids(fields[1])
        ts = self.times.to_utc(meter_id, parse_iso_time(fields[0], "timestamp"))
        import_wh = parse_number(fields[2], "energy")
        if import_wh < 0:
            raise BadRowError("negative_energy", f"energy register is {import_wh}")
        reading = make_reading(meter_id=meter_id, ts=ts, import_wh=import_wh)
        self.times.commit(meter_id, ts)
        return reading


class Ps2024Format:
    """Recognised by a ``;``-separated first row of time, sensor and number (or the header)."""

    name = "ps2024"
    delimiter = ";"
    header_required = False

    def is_header(self, first_row: Sequence[str]) -> bool:
        return tuple(name.strip().lower() for name in first_row) == HEADER

    def accepts_first_row(self, first_row: Sequence[str]) -> bool:
        if self.is_header(first_row):
            return True
        try:
            Ps2024Parser(FormatOptions()).parse(first_row)
        except BadRowError:
            return False
        return True

    def parser(self, options: FormatOptions, header: Sequence[str] | None) -> RowParser:
        return Ps2024Parser(options)


PS2024 = Ps2024Format()
