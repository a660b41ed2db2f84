"""Running totals, the aggregator after the rules: energy day and month to date, the
half-hour profile of the day, and its cost under a time-of-day tariff, per meter."""

from __future__ import annotations

from streaming_app.totals.aggregator import TotalsAggregator
from streaming_app.totals.running import DayTotals, MeterTotals, MonthTotal, RunningTotals

__all__ = [
    "DayTotals",
    "MeterTotals",
    "MonthTotal",
    "RunningTotals",
    "TotalsAggregator",
]
