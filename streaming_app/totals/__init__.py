"""Running totals per meter: energy day/month to date, half-hour profile, tariff cost."""

from __future__ import annotations

from smart_meter.energy.attribution import HALF_HOUR_MS, split_energy, to_mwh
from smart_meter.energy.tariff import DEFAULT_TARIFF_CSV, Tariff, TariffError, load_tariff
from streaming_app.totals.running import DayTotal, MeterTotals, MonthTotal, RunningTotals

__all__ = [
    "DEFAULT_TARIFF_CSV",
    "HALF_HOUR_MS",
    "DayTotal",
    "MeterTotals",
    "MonthTotal",
    "RunningTotals",
    "Tariff",
    "TariffError",
    "load_tariff",
    "split_energy",
    "to_mwh",
]
