"""Time of a mart refresh (check + one transaction of DELETE and COPY) for a fleet-month.

    python -m bench.mart_bench [--meters 1000] [--days 31]

Needs the local stack's PostgreSQL (`python start_services.py up postgres`). Writes a
month of the year 2199 (no real data there), refreshes it twice (the second replaces
every row), then empties it again.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from batch_app.mart import MartFrames, RefreshWindow, refresh_mart
from batch_app.mart.frames import all_rows
from stack.settings import StackSettings, connections_for

FIRST_DAY = date(2199, 1, 1)


def fleet_frames(meters: int, days: int) -> MartFrames:
    ids = [f"M{i:07d}" for i in range(meters)]
    dates = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    index = pd.MultiIndex.from_product([ids, dates], names=["meter_id", "day"])
    daily = index.to_frame(index=False)
    mwh = np.random.default_rng(42).integers(1_000_000, 30_000_000, len(daily))
    costs = pd.Series([Decimal(int(v)) * Decimal("0.0000002512") for v in mwh], dtype=object)
    daily = daily.assign(
        transformer_id=[f"T{i // 50:05d}" for i in range(len(daily))],
        line_id="L0001",
        energy_mwh=mwh,
        energy_kwh=mwh / 1e6,
        cost=costs,
        currency="EUR",
        readings=48,
        estimated_intervals=0,
    )
    completeness = daily[["meter_id", "day"]].assign(
        interval_minutes=30, expected=48, received=48, estimated=0, completeness=1.0
    )
    monthly = daily.groupby("meter_id", as_index=False).agg(
        energy_mwh=("energy_mwh", "sum"), cost=("cost", "sum"), days=("day", "count")
    )
    monthly = monthly.assign(
        month=FIRST_DAY, energy_kwh=monthly["energy_mwh"] / 1e6, currency="EUR"
    )
    empty = MartFrames.empty()
    return MartFrames(
        meter_daily=daily,
        meter_monthly=monthly,
        transformer_daily=empty.transformer_daily,
        transformer_monthly=empty.transformer_monthly,
        completeness=completeness,
        gaps=empty.gaps,
        alerts=empty.alerts,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=31)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores; command: python -m bench.mart_bench"
    )
    connections = connections_for(StackSettings())
    frames = fleet_frames(args.meters, args.days)
    last_day = FIRST_DAY + timedelta(days=args.days - 1)
    began = time.perf_counter()
    rows = sum(len(r) for r in all_rows(frames, RefreshWindow(FIRST_DAY, last_day)).values())
    print(f"check of {rows:,} rows: {time.perf_counter() - began:.2f} s")
    try:
        for attempt in ("first", "second"):
            began = time.perf_counter()
            counts = refresh_mart(connections, frames, FIRST_DAY, last_day)
            total = time.perf_counter() - began
            print(
                f"{attempt} refresh: {counts.line()}; with the check {total:.2f} s, "
                f"{counts.rows / total:,.0f} rows/s"
            )
    finally:
        refresh_mart(connections, MartFrames.empty(), FIRST_DAY, last_day)


if __name__ == "__main__":
    main()
