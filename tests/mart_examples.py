"""Batch results as the jobs hand them to the mart: a few meters and transformers over days.

Values are derived from (meter, day, ``scale``) so that a test can make a second,
different version of the same days, and every column of every table is filled with
values that exercise its kind (exact mWh, decimal costs with ten places, UTC times).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from batch_app.mart import MartFrames

METERS = ("M0000001", "M0000002", "M0000003")
TRANSFORMER_OF = {"M0000001": "T00001", "M0000002": "T00001", "M0000003": "T00002"}
PRICE_PER_MWH = Decimal("0.0000002512")  # 0.2512 per kWh


def days_between(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]


def energy_mwh(meter: str, day: date, scale: int) -> int:
    return scale * (5_000_000 + 1_000 * METERS.index(meter) + day.toordinal() % 97 * 7_919)


def meter_daily(days: list[date], scale: int) -> pd.DataFrame:
    rows = []
    for day in days:
        for meter in METERS:
            mwh = energy_mwh(meter, day, scale)
            rows.append(
                {
                    "meter_id": meter,
                    "day": day,
                    "transformer_id": TRANSFORMER_OF[meter],
                    "line_id": None if meter == "M0000003" else "L0001",
                    "energy_kwh": mwh / 1e6,
                    "energy_mwh": mwh,
                    "cost": PRICE_PER_MWH * mwh,
                    "currency": "EUR",
                    "readings": 48 - METERS.index(meter),
                    "estimated_intervals": METERS.index(meter),
                }
            )
    return pd.DataFrame(rows)


def _sum_by(daily: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = daily.groupby(keys, as_index=False).agg(
        energy_mwh=("energy_mwh", "sum"), cost=("cost", "sum"), currency=("currency", "first")
    )
    grouped["energy_kwh"] = grouped["energy_mwh"] / 1e6
    return grouped


def monthly(daily: pd.DataFrame, key: str) -> pd.DataFrame:
    daily = daily.assign(month=[day.replace(day=1) for day in daily["day"]])
    months = _sum_by(daily, [key, "month"])
    if key == "meter_id":
        months["days"] = daily.groupby([key, "month"])["day"].count().to_numpy()
    return months


def transformer_daily(daily: pd.DataFrame) -> pd.DataFrame:
    totals = _sum_by(daily, ["transformer_id", "day"])
    totals["meters"] = daily.groupby(["transformer_id", "day"])["meter_id"].count().to_numpy()
    totals["peak_kw"] = totals["energy_kwh"] / 10
    totals["peak_at"] = [
        datetime.combine(day, time(18, 30), UTC) for day in totals["day"]
    ]  # tz-aware
    return totals


def completeness(days: list[date]) -> pd.DataFrame:
    rows = [
        {
            "meter_id": meter,
            "day": day,
            "interval_minutes": 30,
            "expected": 48,
            "received": 48 - METERS.index(meter),
            "estimated": METERS.index(meter),
            "completeness": (48 - METERS.index(meter)) / 48,
        }
        for day in days
        for meter in METERS
    ]
    return pd.DataFrame(rows)


def gaps(days: list[date]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for day in days:
        start = datetime.combine(day, time(3, 0))  # naive: UTC
        rows.append(
            {
                "meter_id": "M0000002",
                "start_ts": start,
                "end_ts": start + timedelta(minutes=30),
                "missing_intervals": 1,
                "open": False,
                "detected_by": "gap",
            }
        )
    rows.append({**rows[-1], "meter_id": "M0000003", "end_ts": None, "open": True})
    rows[-1]["missing_intervals"] = None
    return pd.DataFrame(rows)


def alerts(days: list[date], scale: int) -> pd.DataFrame:
    rows = [
        {
            "day": day,
            "kind": "spike",
            "start_ts": datetime.combine(day, time(12, 0), UTC),
            "meter_id": "M0000001",
            "end_ts": datetime.combine(day, time(12, 30), UTC),
            "value": 12.5 * scale,
            "threshold": 8.0,
            "unit": "kW",
            "detail": f"spike on {day}",
        }
        for day in days
    ]
    return pd.DataFrame(rows)


def example_frames(first_day: date, last_day: date, scale: int = 1) -> MartFrames:
    """Every table filled for ``first_day..last_day`` (monthly rows: sums of those days)."""
    days = days_between(first_day, last_day)
    daily = meter_daily(days, scale)
    return MartFrames(
        meter_daily=daily,
        meter_monthly=monthly(daily, "meter_id"),
        transformer_daily=transformer_daily(daily),
        transformer_monthly=monthly(daily, "transformer_id"),
        completeness=completeness(days),
        gaps=gaps(days),
        alerts=alerts(days, scale),
    )


def with_frame(frames: MartFrames, table: str, frame: pd.DataFrame) -> MartFrames:
    return replace(frames, **{table: frame})
