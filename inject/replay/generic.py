"""The generic interval format: ``meter_id,timestamp,consumption_kwh`` (comma-separated).

Column names are matched without case and in any order, extra columns are ignored:
the meter id is ``meter_id``, ``meterId`` or ``id``; the time ``timestamp`` (ISO 8601,
``T`` or space, optional offset or ``Z``); the energy ``consumption_kwh``,
``consumption`` or ``kwh``: the energy of the interval ending at ``timestamp``, not a
register. Each meter's cumulative register is built from 0 Wh (see
:class:`~inject.replay.fields.EnergyRegister`). Naive times are UTC unless
``--timezone`` names the zone they were written in.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from inject.replay.core import FormatOptions, ReplayError, RowParser
from inject.replay.interval import IntervalColumns, IntervalEnergyParser

METER_COLUMNS = ("meter_id", "meterid", "id")
TIME_COLUMNS = ("timestamp",)
ENERGY_COLUMNS = ("consumption_kwh", "consumption", "kwh")
DEFAULT_ZONE = ZoneInfo("UTC")


def _position(names: tuple[str, ...], aliases: tuple[str, ...]) -> int | None:
    return next((names.index(alias) for alias in aliases if alias in names), None)


def find_columns(header: Sequence[str]) -> IntervalColumns | None:
    """Where the meter, time and energy columns are, or ``None`` if one is missing."""
    names = tuple(name.strip().lower() for name in header)
    meter = _position(names, METER_COLUMNS)
    time = _position(names, TIME_COLUMNS)
    energy = _position(names, ENERGY_COLUMNS)
    if meter is None or time is None or energy is None:
        return None
    return IntervalColumns(meter, time, energy, names)


class GenericFormat:
    """Recognised by a comma-separated header with the three columns."""

    name = "generic"
    delimiter = ","
    header_required = True

    def is_header(self, first_row: Sequence[str]) -> bool:
        return find_columns(first_row) is not None

    def accepts_first_row(self, first_row: Sequence[str]) -> bool:
        return self.is_header(first_row)

    def parser(self, options: FormatOptions, header: Sequence[str] | None) -> RowParser:
        columns = find_columns(header or [])
        if columns is None:
            raise ReplayError(
                f"generic format needs a header with one of {METER_COLUMNS}, "
                f"{TIME_COLUMNS} and one of {ENERGY_COLUMNS}; got {list(header or [])}"
            )
        return IntervalEnergyParser(options, columns, DEFAULT_ZONE)


GENERIC = GenericFormat()
