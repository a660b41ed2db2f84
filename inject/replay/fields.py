"""Field parsing shared by the formats: numbers, local times, meter ids, registers.

Every helper raises :class:`BadRowError` with a reason, never returns a placeholder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from inject.replay.core import BadRowError, FormatOptions
from smart_meter.reading import Reading

# What sources write for "no value": UCI uses "?", LCL uses "Null".
MISSING_MARKERS = frozenset({"", "?", "null", "na", "n/a", "nan", "none"})
WH_PER_KWH = 1000.0


def check_column_count(fields: Sequence[str], expected: int) -> None:
    if len(fields) != expected:
        raise BadRowError("wrong_column_count", f"{len(fields)} columns, expected {expected}")


def parse_number(text: str, column: str) -> float:
    """A finite float; ``?``/``Null``/empty is ``missing_value``, the rest ``bad_number``."""
    cleaned = text.strip()
    if cleaned.lower() in MISSING_MARKERS:
        raise BadRowError("missing_value", f"{column} is {text!r}")
    try:
        value = float(cleaned)
    except ValueError:
        raise BadRowError("bad_number", f"{column} is {text!r}") from None
    if not math.isfinite(value):
        raise BadRowError("bad_number", f"{column} is {text!r}")
    return value


def parse_energy_kwh(text: str, column: str) -> float:
    """An interval energy in kWh: a number, not negative."""
    energy_kwh = parse_number(text, column)
    if energy_kwh < 0:
        raise BadRowError("negative_energy", f"{column} is {energy_kwh}")
    return energy_kwh


def parse_iso_time(text: str, column: str) -> datetime:
    """An ISO 8601 date-time, naive or aware (``2012-10-12 00:30:00.0000000``, ``...Z``)."""
    cleaned = text.strip()
    if not cleaned:
        raise BadRowError("missing_value", f"{column} is empty")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        raise BadRowError("bad_timestamp", f"{column} is {text!r}") from None


class MeterIds:
    """The meter id to publish for a row: the file's id or the override, after the prefix.

    ``--meter-id`` is meant for single-meter files: once it has replaced one meter of
    the file, a row of any other meter is ``other_meter``, never merged into it.
    """

    def __init__(self, options: FormatOptions) -> None:
        self.options = options
        self._overridden: str | None = None

    def __call__(self, raw_id: str) -> str:
        meter_id = raw_id.strip()
        if not meter_id:
            raise BadRowError("missing_value", "meter id is empty")
        if self.options.meter_id is not None:
            self._overridden = self._overridden or meter_id
            if meter_id != self._overridden:
                raise BadRowError("other_meter", f"{meter_id!r} after {self._overridden!r}")
            meter_id = self.options.meter_id
        return f"{self.options.meter_prefix}{meter_id}"


def make_reading(**fields: object) -> Reading:
    """A validated :class:`Reading`; a field outside the model's limits is ``invalid_reading``."""
    try:
        return Reading.model_validate(fields)
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise BadRowError("invalid_reading", f"{where}: {detail['msg']}") from None


class LocalTimeResolver:
    """Naive local times → UTC in one zone, per meter, across daylight-saving changes.

    A local time in the spring-forward hole does not exist: ``nonexistent_local_time``.
    A local time in the autumn repeated hour is ambiguous: its first reading of a meter
    is taken as the earlier instant (summer time, ``fold=0``), and a repeat that would
    not move that meter forward as the later one (``fold=1``), so data written in
    order across the change keeps its order. Aware times are only converted to UTC.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._last_utc: dict[str, datetime] = {}

    def to_utc(self, meter_id: str, moment: datetime) -> datetime:
        """The UTC instant of ``moment``; :meth:`commit` it once the row is a reading."""
        local = self._resolve(meter_id, moment) if moment.tzinfo is None else moment
        return local.astimezone(UTC)

    def commit(self, meter_id: str, utc: datetime) -> None:
        self._last_utc[meter_id] = utc

    def _resolve(self, meter_id: str, naive: datetime) -> datetime:
        early = naive.replace(tzinfo=self.zone, fold=0)
        late = naive.replace(tzinfo=self.zone, fold=1)
        if early.utcoffset() == late.utcoffset():
            return early
        if not _exists(early) and not _exists(late):
            raise BadRowError(
                "nonexistent_local_time", f"{naive} does not exist in {self.zone.key}"
            )
        last = self._last_utc.get(meter_id)
        if last is not None and early.astimezone(UTC) <= last:
            return late
        return early


def _exists(local: datetime) -> bool:
    """Whether an aware local time survives a round trip through UTC (not in a DST hole)."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


class EnergyRegister:
    """Cumulative import registers (Wh) built from interval energies, one per meter.

    Each meter's register starts at 0 Wh before its first row; a row's interval energy
    is added to it, and the reading carries the register including that row (the row's
    energy is taken as the interval ending at its timestamp). Bad rows add nothing.
    """

    def __init__(self) -> None:
        self._total_wh: dict[str, float] = {}

    def after_kwh(self, meter_id: str, energy_kwh: float) -> float:
        """The meter's register (Wh) once ``energy_kwh`` is added; :meth:`commit` keeps it."""
        return self._total_wh.get(meter_id, 0.0) + energy_kwh * WH_PER_KWH

    def commit(self, meter_id: str, total_wh: float) -> None:
        """Keep the register of a row that became a reading."""
        self._total_wh[meter_id] = total_wh
