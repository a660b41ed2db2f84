"""London "Low Carbon London" half-hourly files, in their two published layouts.

* ``lcl``: ``LCLid,stdorToU,DateTime,KWH/hh (per half hour) `` (the full data set;
  the last header name ends with a space, and values may have spaces too);
* ``lcl-tstp``: ``LCLid,tstp,energy(kWh/hh)`` (the per-block files).

Times are written without offset (``2012-10-12 00:30:00.0000000``) and are GMT all
year: the published files hold 48 half-hours on every day, the clock-change days
included (``01:00`` and ``01:30`` exist on the March change day, nothing repeats in
October), so both layouts read them as UTC. ``--timezone`` overrides that for a file
written in another zone (``--timezone Europe/London`` for London wall-clock times;
across the clock changes see :class:`~inject.replay.fields.LocalTimeResolver`).

Energies are kWh per half hour, ``Null`` where the meter sent nothing (a
``missing_value`` bad row); each meter's cumulative register is built from 0 Wh.
``stdorToU`` (tariff type) has no place in a reading and is not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from inject.replay.core import FormatOptions, RowParser
from inject.replay.interval import IntervalColumns, IntervalEnergyParser

DEFAULT_ZONE = ZoneInfo("UTC")  # GMT all year, no summer time
STD_HEADER = ("lclid", "stdortou", "datetime", "kwh/hh (per half hour)")
TSTP_HEADER = ("lclid", "tstp", "energy(kwh/hh)")


class LclFormat:
    """One of the two LCL layouts, recognised by its header (spaces and case ignored)."""

    delimiter = ","
    header_required = True

    def __init__(self, name: str, header: tuple[str, ...]) -> None:
        self.name, self.header = name, header
        last = len(header) - 1
        self.columns = IntervalColumns(meter=0, time=last - 1, energy=last, names=header)

    def is_header(self, first_row: Sequence[str]) -> bool:
        return tuple(name.strip().lower() for name in first_row) == self.header

    def accepts_first_row(self, first_row: Sequence[str]) -> bool:
        return self.is_header(first_row)

    def parser(self, options: FormatOptions, header: Sequence[str] | None) -> RowParser:
        return IntervalEnergyParser(options, self.columns, DEFAULT_ZONE)


LCL_STD = LclFormat("lcl", STD_HEADER)
LCL_TSTP = LclFormat("lcl-tstp", TSTP_HEADER)
