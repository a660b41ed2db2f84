"""Completeness and the temperature fit on local Spark against the real Cassandra.

Completeness counts each meter's own interval in local days of Europe/Lisbon: 48
half-hours on an ordinary day, 46 on the day clocks go forward, 50 on the day they go
back, 92 quarter-hours on the short day. The temperature fit recovers a consumption
built as 5 kWh a day plus 1 kWh per heating degree-day.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from batch_app.settings import BatchSettings
from smart_meter.settings import ConnectionSettings
from tests.batch_support import insert_actual_readings, months_of, run_job, select

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
LISBON = ZoneInfo("Europe/Lisbon")
MINUTE_MS = 60_000


def local_ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), LISBON).timestamp() * 1000)


Row = tuple[str, int, float, str | None]


def regular(meter: str, first: date, last: date, step_min: int, skip: set[int]) -> list[Row]:
    """Readings every ``step_min`` minutes over local days first..last, minus ``skip``."""
    start, end = local_ms(first), local_ms(last + timedelta(days=1))
    times = range(start, end, step_min * MINUTE_MS)
    return [(meter, t, 1_000.0 + n * 10, f"TC{RUN}") for n, t in enumerate(times) if t not in skip]


def test_expected_intervals_follow_the_meter_and_the_clock_changes(
    connections: ConnectionSettings,
) -> None:
    half, quarter = f"C{RUN}-half", f"C{RUN}-quarter"
    missing = {local_ms(date(2024, 3, 31)) + k * 30 * MINUTE_MS for k in (4, 5, 9)}
    rows = regular(half, date(2024, 3, 30), date(2024, 4, 1), 30, missing)
    rows += regular(half, date(2024, 10, 26), date(2024, 10, 28), 30, set())
    rows += regular(quarter, date(2024, 3, 30), date(2024, 4, 1), 15, set())
    insert_actual_readings(connections, rows)
    settings = BatchSettings(time_zone="Europe/Lisbon")
    spring, autumn = (date(2024, 3, 30), date(2024, 4, 1)), (date(2024, 10, 26), date(2024, 10, 28))
    run_job(connections, "completeness", *spring, [half, quarter], settings)
    run_job(connections, "completeness", *autumn, [half], settings)

    days = {spring[0] + timedelta(days=n) for n in range(3)}
    days |= {autumn[0] + timedelta(days=n) for n in range(3)}
    found = {
        (r.meter_id, r.day.date()): (r.interval_minutes, r.expected, r.received, r.completeness)
        for r in select(
            connections,
            "SELECT meter_id, day, interval_minutes, expected, received, completeness "
            "FROM completeness_by_meter_day WHERE meter_id = ? AND month = ?",
            [(m, month) for m in (half, quarter) for month in months_of(days)],
        )
    }
    assert found[(half, date(2024, 3, 30))] == (30, 48, 48, 1.0)
    assert found[(half, date(2024, 3, 31))] == (30, 46, 43, 43 / 46)
    assert found[(half, date(2024, 10, 27))] == (30, 50, 50, 1.0)
    assert found[(quarter, date(2024, 3, 31))] == (15, 92, 92, 1.0)
    assert found[(half, date(2024, 4, 1))][1] == 48


def test_the_degree_day_fit_recovers_the_consumption_it_was_built_from(
    connections: ConnectionSettings,
) -> None:
    first = date(2024, 1, 10)
    temperature = {first + timedelta(days=d): 5.0 + d for d in range(10)}  # 5..14 °C

    def day_of(ts_ms: int) -> date:
        return datetime.fromtimestamp(ts_ms / 1000, UTC).date()

    def kwh(day: date) -> float:
        return 5.0 + 1.0 * max(0.0, 15.5 - temperature.get(day, 15.5))  # base + 1 kWh per HDD

    meters = [f"W{RUN}-{n}" for n in range(2)]
    rows = []
    for meter in meters:
        register, ts = (
            10_000.0,
            int(datetime.combine(first, datetime.min.time(), UTC).timestamp() * 1000),
        )
        for _ in range(10 * 48 + 1):
            rows.append((meter, ts, register, f"TW{RUN}"))
            register += kwh(day_of(ts)) * 1000 / 48  # the half-hour starting here
            ts += 30 * MINUTE_MS
    insert_actual_readings(connections, rows, temperature_c=lambda ts: temperature.get(day_of(ts)))
    settings = BatchSettings(time_zone="UTC")
    last = first + timedelta(days=9)
    run_job(connections, "energy", first, last, meters, settings)
    report = run_job(connections, "temperature", first, last, meters, settings)

    fits = {
        (r.level, r.id): r
        for r in select(
            connections,
            "SELECT level, id, days, correlation, base_kwh_per_day, kwh_per_degree_day, r2 "
            "FROM temperature_fit WHERE level = ? AND id = ? AND first_day = ? AND last_day = ?",
            [("meter", m, first, last) for m in meters]
            + [("transformer", f"TW{RUN}", first, last)],
        )
    }
    for meter in meters:
        fit = fits[("meter", meter)]
        assert fit.days == 10
        assert fit.kwh_per_degree_day == pytest.approx(1.0, abs=1e-6)
        assert fit.base_kwh_per_day == pytest.approx(5.0, abs=1e-6)
        assert fit.correlation == pytest.approx(-1.0, abs=1e-9)
        assert fit.r2 == pytest.approx(1.0, abs=1e-9)
    transformer = fits[("transformer", f"TW{RUN}")]
    assert transformer.kwh_per_degree_day == pytest.approx(2.0, abs=1e-6)  # two meters
    assert report.summaries["temperature"].meters == 2
