"""The batch bench's DuckDB computation equals the platform's own arithmetic.

``bench.batch_duckdb`` is the baseline the Spark job is checked against, so it is pinned
here to ``smart_meter.energy.attribution.split_energy`` and the tariff, meter-day by
meter-day, over a clock change, a missed reading, a rollover and a failed register.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from batch_app.settings import BatchSettings
from bench.batch_duckdb import meter_day_sql, run_duckdb
from smart_meter.energy.attribution import split_energy
from smart_meter.energy.tariff import load_tariff

ZONE = "Europe/Lisbon"
FIRST, LAST = date(2025, 3, 29), date(2025, 3, 31)  # the clock goes forward on the 30th
START_MS = int(datetime(2025, 3, 28, 22, tzinfo=UTC).timestamp() * 1000) + 257_143
STEP_MS = 1_800_000

Reading = tuple[str, int, float, list[str]]  # meter, ts_ms, import_wh, failed_rules


def fleet() -> list[Reading]:
    readings: list[Reading] = []
    register = 1234.567
    for k in range(150):
        # k = 10 is missed: the interval ending at k = 11 lasts an hour and holds 7 mWh,
        # and its first half-hour ends after 1,542,857 ms: 7 x 1,542,857 / 3,600,000 is
        # 2.9999997, whose floor (2) is lost at 6 decimal places
        increase = {10: 0.0, 11: 0.007}.get(k, 0.1 + (k * 37 % 11) / 7)
        register = round(register + increase, 3)
        if k != 10:
            readings.append(("a", START_MS + k * STEP_MS, register, []))
    wrapping = [99_999_990.25, 99_999_999.5, 2.125, 150.0]
    readings += [("b", START_MS + (60 + k) * STEP_MS, wh, []) for k, wh in enumerate(wrapping)]
    spiking = [500.0, 600.0, 90_000.0, 700.0]
    readings += [
        ("c", START_MS + (60 + k) * STEP_MS, wh, ["register"] if wh > 10_000 else [])
        for k, wh in enumerate(spiking)
    ]
    return readings


def write_parquet(readings: list[Reading], path: Path) -> None:
    with duckdb.connect() as db:
        db.execute(
            "CREATE TABLE r (meter_id VARCHAR, day DATE, ts TIMESTAMP, transformer_id VARCHAR, "
            "line_id VARCHAR, import_wh DOUBLE, quality VARCHAR, failed_rules VARCHAR[])"
        )
        for meter, ts_ms, wh, failed in readings:
            ts = datetime.fromtimestamp(ts_ms / 1000, UTC).replace(tzinfo=None)
            db.execute(
                "INSERT INTO r VALUES (?, ?, ?, 't', 'l', ?, 'A', ?)",
                [meter, ts.date(), ts, wh, failed or None],
            )
        db.execute(f"COPY r TO '{path}' (FORMAT parquet)")


def expected(
    readings: list[Reading], settings: BatchSettings
) -> dict[tuple[str, date], tuple[int, Decimal]]:
    """Energy and cost per meter and local day, the platform's way."""
    prices = load_tariff(settings.tariff_csv).prices_per_kwh
    zone = ZoneInfo(settings.time_zone)
    days: dict[tuple[str, date], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    counted = [r for r in readings if "register" not in r[3]]
    for (meter, start, before, _), (meter_to, end, after, _) in pairwise(counted):
        if meter != meter_to:
            continue
        energy = round(after * 1000) - round(before * 1000)
        if energy < 0:
            energy = round((settings.rollover_at_wh - before + after) * 1000)
        for period, part in split_energy(start, end, energy):
            local = datetime.fromtimestamp(period / 1000, zone)
            price = Decimal(prices[local.hour * 2 + local.minute // 30]) / 1_000_000
            cost = (part * price).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)
            if FIRST <= local.date() <= LAST:
                days[meter, local.date()][0] += part
                days[meter, local.date()][1] += cost
    return {key: (int(mwh), cost) for key, (mwh, cost) in days.items()}


def test_duckdb_meter_days_equal_the_platform_split_and_tariff(tmp_path: Path) -> None:
    readings = fleet()
    write_parquet(readings, tmp_path / "readings.parquet")
    settings = BatchSettings(time_zone=ZONE)
    sql = meter_day_sql(str(tmp_path / "*.parquet"), settings, FIRST, LAST, widen_days=8)
    run_duckdb(sql, tmp_path / "out.parquet")
    with duckdb.connect() as db:
        rows = db.execute(
            f"SELECT meter_id, day, energy_mwh, cost FROM '{tmp_path / 'out.parquet'}'"
        ).fetchall()
    found = {(meter, day): (mwh, cost) for meter, day, mwh, cost in rows}
    assert found == expected(readings, settings)
    assert {meter for meter, _ in found} == {"a", "b", "c"}


def test_a_clock_change_day_has_46_half_hours(tmp_path: Path) -> None:
    write_parquet(fleet(), tmp_path / "readings.parquet")
    sql = meter_day_sql(
        str(tmp_path / "*.parquet"), BatchSettings(time_zone=ZONE), FIRST, LAST, widen_days=8
    )
    run_duckdb(sql, tmp_path / "out.parquet")
    with duckdb.connect() as db:
        lengths = db.execute(
            f"SELECT day, len(half_hours_mwh) FROM '{tmp_path / 'out.parquet'}' "
            "WHERE meter_id = 'a' ORDER BY day"
        ).fetchall()
    assert lengths[1] == (date(2025, 3, 30), 46)
