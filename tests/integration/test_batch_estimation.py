"""The estimation job on local Spark against the real Cassandra.

Three weeks of a small fleet's half-hourly readings are stored with two holes in the last
days: a short one (linear interpolation) and a long one (like days). The job writes
estimated rows, quality ``E`` with their method, exactly at the missing times, with
registers that climb from one end of the gap to the other; the actual rows are untouched
(values and Cassandra write times), and a second run writes the same values.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from inject.fleet import Fleet, FleetConfig
from smart_meter.settings import ConnectionSettings
from smart_meter.spark.cassandra import write_table
from smart_meter.spark.session import spark_session
from tests.batch_support import UTC_SETTINGS, insert_actual_readings, run_job, select

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
START = datetime(2024, 5, 1, tzinfo=UTC)
DAYS, METERS, HALF_HOUR_MS = 21, 4, 1_800_000
SHORT = (datetime(2024, 5, 20, 10, tzinfo=UTC), 2)  # two readings missing: one hour
LONG = (datetime(2024, 5, 21, 6, tzinfo=UTC), 20)  # ten hours
FIRST, LAST = date(2024, 5, 19), date(2024, 5, 21)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def hidden_times() -> set[int]:
    return {ms(start) + n * HALF_HOUR_MS for start, count in (SHORT, LONG) for n in range(count)}


def stored_rows(connections: ConnectionSettings, meters: list[str]) -> dict[Any, Any]:
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    rows = select(
        connections,
        "SELECT meter_id, ts, import_wh, quality, estimation_method, status, "
        "writetime(import_wh) AS written FROM readings_by_meter_day WHERE meter_id = ? AND day = ?",
        [(m, d) for m in meters for d in days],
    )
    return {(r.meter_id, ms(r.ts.replace(tzinfo=UTC))): r for r in rows}


@pytest.fixture(scope="module")
def fleet(connections: ConnectionSettings) -> list[str]:
    """Meters of this run, stored without the hidden readings; their ids."""
    intervals = Fleet(FleetConfig(meters=METERS, interval_s=1800), START).run(DAYS * 48)
    hidden, rows = hidden_times(), []
    for _, readings in intervals:
        for r in readings:
            if r.meter_id == "M0000000" or r.ts_ms not in hidden:
                rows.append((f"E{RUN}-{r.meter_id}", r.ts_ms, r.import_wh, f"TE{RUN}"))
    insert_actual_readings(connections, rows)
    return sorted({m for m, *_ in rows})


def test_gaps_get_flagged_estimates_and_actual_rows_stay(
    connections: ConnectionSettings, fleet: list[str]
) -> None:
    before = stored_rows(connections, fleet)
    report = run_job(connections, "estimate", FIRST, LAST, fleet)
    after = stored_rows(connections, fleet)

    for key, row in before.items():
        assert after[key] == row, key  # same values, same write time
    estimated = {k: r for k, r in after.items() if k not in before}
    gapped = [m for m in fleet if not m.endswith("M0000000")]
    assert set(estimated) == {(m, t) for m in gapped for t in hidden_times()}
    assert all((r.quality, r.status) == ("E", "estimated") for r in estimated.values())
    short_end = ms(SHORT[0]) + (SHORT[1] - 1) * HALF_HOUR_MS
    for (meter, ts), row in estimated.items():
        method = "linear" if ts <= short_end else "like_day"
        assert row.estimation_method == method, (meter, ts)
        below = before[(meter, max(t for m, t in before if m == meter and t < ts))].import_wh
        above = before[(meter, min(t for m, t in before if m == meter and t > ts))].import_wh
        assert below <= row.import_wh <= above
    summary = report.summaries["estimate"]
    assert summary.estimated == len(estimated)
    assert summary.by_method == {"like_day": 3 * 20, "linear": 3 * 2}

    run_job(connections, "estimate", FIRST, LAST, fleet)
    again = stored_rows(connections, fleet)
    assert {k: r.import_wh for k, r in again.items()} == {k: r.import_wh for k, r in after.items()}


def test_a_write_dated_before_an_actual_reading_does_not_replace_it(
    connections: ConnectionSettings, fleet: list[str]
) -> None:
    """The guard the job relies on: estimates carry the time the job started reading."""
    meter, ts = fleet[0], ms(SHORT[0])
    (actual,) = [r for k, r in stored_rows(connections, [meter]).items() if k == (meter, ts)]
    spark = spark_session(UTC_SETTINGS.spark_options(), connections, "estimate-guard")
    frame = spark.createDataFrame(
        [(meter, SHORT[0].date(), SHORT[0], 1.0, "E", "linear", "estimated")],
        "meter_id string, day date, ts timestamp, import_wh double, quality string, "
        "estimation_method string, status string",
    )
    started_us = actual.written - 1_000_000  # the job began reading just before it was stored
    write_table(frame, connections.cassandra_keyspace, "readings_by_meter_day", started_us)
    (now,) = [r for k, r in stored_rows(connections, [meter]).items() if k == (meter, ts)]
    kept = ("import_wh", "quality", "status", "written")
    assert [getattr(now, c) for c in kept] == [getattr(actual, c) for c in kept]
    assert now.quality == "A"  # an actual reading still (a method left on it means nothing)
