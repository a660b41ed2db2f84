"""Running totals per meter: energy day/month to date, half-hour profile, tariff cost."""

from __future__ import annotations

from streaming_app.totals.attribution import HALF_HOUR_MS, split_energy, to_mwh
from streaming_app.totals.running import DayTotal, MeterTotals, MonthTotal, RunningTotals
from streaming_app.totals.tariff import DEFAULT_TARIFF_CSV, Tariff, TariffError, load_tariff

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
