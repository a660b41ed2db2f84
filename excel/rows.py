"""What a workbook shows, as plain rows: read from Cassandra by :mod:`excel.source`, laid
out by :mod:`excel.sheets`. Times are UTC; energies keep the stores' units until a sheet
turns them into kWh."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

ESTIMATED = "E"


@dataclass(frozen=True)
class ReadingRow:
    """One stored reading of ``readings_by_meter_day`` with its quality flags."""

    meter_id: str
    ts: datetime
    import_wh: float | None
    voltage_v: tuple[float, ...] = ()
    current_a: tuple[float, ...] = ()
    temperature_c: float | None = None
    quality: str | None = None
    estimation_method: str | None = None
    failed_rules: tuple[str, ...] = ()
    lateness: str | None = None
    status: str | None = None

    @property
    def estimated(self) -> bool:
        return self.quality == ESTIMATED


@dataclass(frozen=True)
class DailyRow:
    """A meter's energy and cost on a day: the batch's ``energy_by_meter_day`` or, for a
    day the batch has not computed, the streaming app's running totals."""

    meter_id: str
    day: date
    energy_mwh: int
    cost: Decimal | None
    currency: str | None
    intervals: int | None
    estimated_intervals: int | None
    source: str


@dataclass(frozen=True)
class EventRow:
    """A gap (``gaps_by_meter``) or an alert (``alerts_by_day``) of a meter."""

    kind: str
    meter_id: str
    start: datetime
    end: datetime | None
    missing_intervals: int | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None
    detail: str | None = None


@dataclass
class ExportData:
    """Everything one workbook holds, for the meters and UTC days asked for."""

    first_day: date
    last_day: date
    readings: list[ReadingRow] = field(default_factory=list)
    daily: list[DailyRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)

    @property
    def meters(self) -> list[str]:
        return sorted({r.meter_id for r in self.readings})

    @property
    def estimates(self) -> list[ReadingRow]:
        return [r for r in self.readings if r.estimated]
