"""Every batch job over a range, then the mart read through ODBC as Excel reads it.

A small fleet with gaps and spikes is stored the way the streaming app stores it, in a
month of its own (a random month of 2060-2099, so that the range-wide jobs see only it),
``all`` runs over its days, and the mart's tables, queried through unixODBC and the
PostgreSQL ODBC driver, hold what the batch wrote to Cassandra: with the README's
DSN-less string, and through the DSN of the templates ``python -m excel odbc`` writes
(with ``pyodbc`` and with unixODBC's ``isql``).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from inject.faults import FaultConfig, FaultInjector, FaultKind
from inject.fleet import Fleet, FleetConfig
from smart_meter.settings import ConnectionSettings
from tests.batch_support import months_of, run_job, select
from tests.odbc_support import dsn_rows, isql_lines, odbc_connect
from tests.streaming_storage import store_as_the_app_does

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
METERS, DAYS = 8, 3


async def test_all_jobs_land_in_the_mart_and_odbc_reads_them(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    start = datetime(random.randrange(2060, 2100), random.randrange(1, 13), 3, tzinfo=UTC)
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=1800, meters_per_transformer=4), start)
    faults = FaultConfig.model_validate({"rates": {FaultKind.MISSING: 0.03, FaultKind.SPIKE: 0.01}})
    injector = FaultInjector(faults, 1800, seed=5)
    emissions = [injector.inject(when, rs) for when, rs in fleet.run(DAYS * 48)]
    emissions.append(injector.drain())
    readings = [
        r.model_copy(update={"meter_id": f"X{RUN}-{r.meter_id}"})
        for e in emissions
        for r in e.readings
    ]
    await store_as_the_app_does(connections, readings)
    first, last = start.date(), start.date() + timedelta(days=DAYS - 1)
    meters = sorted({r.meter_id for r in readings})

    report = run_job(connections, "all", first, last, meters=())
    assert report.summaries["estimate"].estimated > 0  # the gaps were filled

    days = [first + timedelta(days=n) for n in range(DAYS)]
    in_cassandra = {
        (r.meter_id, r.day.date()): (r.energy_mwh, r.cost)
        for r in select(
            connections,
            "SELECT meter_id, day, energy_mwh, cost FROM energy_by_meter_day "
            "WHERE meter_id = ? AND month = ?",
            [(m, month) for m in meters for month in months_of(days)],
        )
        if first <= r.day.date() <= last
    }
    assert len(in_cassandra) == METERS * DAYS
    gaps = [
        r
        for r in select(
            connections,
            "SELECT meter_id, start_ts FROM gaps_by_meter WHERE meter_id = ? AND month = ?",
            [(m, month) for m in meters for month in months_of(days)],
        )
        if first <= r.start_ts.date() <= last
    ]
    odbc = odbc_connect(connections)
    try:
        cursor = odbc.cursor()
        daily = cursor.execute(
            "SELECT meter_id, day, energy_mwh, cost FROM mart.meter_daily "
            "WHERE day BETWEEN ? AND ?",
            first,
            last,
        ).fetchall()
        completeness = cursor.execute(
            "SELECT count(*), sum(expected), sum(received), sum(estimated) "
            "FROM mart.completeness WHERE day BETWEEN ? AND ?",
            first,
            last,
        ).fetchone()
        mart_gaps = cursor.execute(
            "SELECT count(*) FROM mart.gaps WHERE meter_id LIKE ?", f"X{RUN}-%"
        ).fetchone()
        transformers = cursor.execute(
            "SELECT count(*), sum(energy_mwh) FROM mart.transformer_daily "
            "WHERE day BETWEEN ? AND ?",
            first,
            last,
        ).fetchone()
    finally:
        odbc.close()
    assert {(m, d): (e, Decimal(c)) for m, d, e, c in daily} == in_cassandra
    assert completeness[0] == METERS * DAYS
    # every half-hour from each meter's first reading (missing first ones are not expected)
    assert METERS * (DAYS * 48 - 2) <= completeness[1] <= METERS * DAYS * 48
    assert completeness[2] < completeness[1]  # the fleet missed readings
    assert completeness[3] == report.summaries["estimate"].estimated  # and they were estimated
    assert completeness[2] + completeness[3] <= completeness[1]
    assert mart_gaps[0] == len(gaps) > 0
    assert transformers[0] == (METERS // 4) * DAYS
    assert transformers[1] == sum(e for e, _ in in_cassandra.values())
    assert report.summaries["mart"].rows >= len(daily)

    # the same rows through the DSN of `python -m excel odbc`'s templates
    templates = tmp_path / "odbc"
    through_dsn = dsn_rows(
        connections, templates,
        "SELECT meter_id, day, energy_mwh, cost FROM mart.meter_daily WHERE day BETWEEN ? AND ?",
        first, last,
    )  # fmt: skip
    assert sorted(through_dsn) == sorted([m, str(d), str(e), str(c)] for m, d, e, c in daily)
    counted = isql_lines(
        connections, templates,
        f"SELECT count(*) FROM mart.gaps WHERE meter_id LIKE 'X{RUN}-%'",
    )  # fmt: skip
    assert counted[-1] == str(mart_gaps[0]), counted
