"""The energy job on local Spark against the real Cassandra.

- The ps2024 assignment's files, stored as clean readings: each day's and month's energy
  and cost equal an exact computation with fractions done here (the batch's whole-mWh
  cumulative floors may differ from it by less than 1 mWh per interval cut by a midnight).
- A small fleet with register faults (falls, resets, gaps) stored the way the streaming app
  stores it: the batch's days equal the app's running totals, day by day, to the mWh and
  to the cent-fraction; a second run writes the same rows.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from batch_app.errors import EmptyRangeError
from batch_app.settings import BatchSettings
from inject.faults import FaultConfig, FaultInjector, FaultKind
from inject.fleet import Fleet, FleetConfig
from smart_meter.energy.tariff import load_tariff
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from streaming_app.totals import TotalsAggregator
from streaming_app.validation import prod_settings
from tests.batch_support import insert_actual_readings, months_of, run_job, select
from tests.shared_data import shared_file
from tests.streaming_storage import store_as_the_app_does

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
HALF_HOUR_MS = 1_800_000
PS_TARIFF = shared_file("ps2024-tp1", "tariff.csv")
ZONE = "Europe/Lisbon"


def ps2024_rows(name: str) -> list[tuple[str, int, float]]:
    """(meter of this run, epoch ms, register Wh) of an assignment file ``time;meter;kWh``."""
    out = []
    for line in shared_file("ps2024-tp1", name).read_text().splitlines():
        if line.strip():
            when, meter, kwh = line.split(";")
            ts = datetime.fromisoformat(when).replace(tzinfo=UTC)
            out.append((f"P{RUN}-{name}-{meter}", int(ts.timestamp() * 1000), float(kwh) * 1000))
    return out


def exact_days(
    rows: list[tuple[str, int, float]],
) -> dict[tuple[str, date], tuple[Fraction, Fraction]]:
    """(meter, UTC day) -> exact (mWh, cost): each interval's energy spread in proportion
    to time over the half-hours it overlaps, each half-hour priced by the tariff."""
    tariff = load_tariff(PS_TARIFF)
    out: dict[tuple[str, date], tuple[Fraction, Fraction]] = {}
    by_meter = itertools.groupby(sorted(rows), key=lambda r: r[0])
    for meter, readings in by_meter:
        for (_, t0, r0), (_, t1, r1) in itertools.pairwise(list(readings)):
            mwh_per_ms = Fraction(r1 - r0) * 1000 / (t1 - t0)
            for start in range(t0 // HALF_HOUR_MS * HALF_HOUR_MS, t1, HALF_HOUR_MS):
                overlap = min(start + HALF_HOUR_MS, t1) - max(start, t0)
                local = datetime.fromtimestamp(start / 1000, UTC)
                mwh = mwh_per_ms * overlap
                energy, cost = out.get((meter, local.date()), (Fraction(0), Fraction(0)))
                price = Fraction(tariff.price_at(local)) / 1_000_000
                out[(meter, local.date())] = (energy + mwh, cost + mwh * price)
    return out


def batch_days(
    connections: ConnectionSettings, meters: set[str], days: set[date]
) -> dict[tuple[str, date], Any]:
    rows = select(
        connections,
        "SELECT meter_id, day, energy_mwh, cost, half_hours_mwh FROM energy_by_meter_day "
        "WHERE meter_id = ? AND month = ?",
        [(m, month) for m in meters for month in months_of(days)],
    )
    return {(r.meter_id, r.day.date()): r for r in rows}


def test_ps2024_days_and_months_equal_an_exact_computation(connections: ConnectionSettings) -> None:
    rows = [
        row for name in ("test1.csv", "test-q1.csv", "test-q3.csv") for row in ps2024_rows(name)
    ]
    insert_actual_readings(connections, [(m, ts, wh, f"T{RUN}") for m, ts, wh in rows])
    exact = exact_days(rows)
    days, meters = {d for _, d in exact}, {m for m, _ in exact}
    settings = BatchSettings(time_zone="UTC", tariff_csv=PS_TARIFF)
    report = run_job(connections, "energy", min(days), max(days), sorted(meters), settings)

    found = batch_days(connections, meters, days)
    assert set(found) == set(exact)
    for key, (mwh, cost) in exact.items():
        row = found[key]
        assert abs(row.energy_mwh - mwh) < 2, key  # two midnights at most cut an interval
        assert abs(Fraction(row.cost) - cost) < Fraction(2 * 24, 100 * 1_000_000), key
        assert sum(row.half_hours_mwh) == row.energy_mwh
    test1 = {k: v for k, v in exact.items() if "-test1.csv-" in k[0]}
    assert test1 and all(found[k].energy_mwh == v[0] for k, v in test1.items())  # on the grid

    months = select(
        connections,
        "SELECT meter_id, month, energy_mwh, cost, days, whole_month FROM energy_by_meter_month "
        "WHERE meter_id = ?",
        [(m,) for m in meters],
    )
    assert {r.meter_id for r in months} == meters
    for month in months:
        of_month = [v for (m, _), v in ((k, found[k]) for k in found) if m == month.meter_id]
        assert month.energy_mwh == sum(r.energy_mwh for r in of_month)
        assert month.cost == sum((r.cost for r in of_month), Decimal(0))
        assert not month.whole_month  # the range covers two days of February
    summary = report.summaries["energy"]
    assert summary.meter_days == len(exact)


def fleet_with_register_faults(tag: str) -> list[Reading]:
    """A fleet over a month's end, some registers falling, reset, rolling over or gapped."""
    start = datetime(2024, 3, 29, 21, tzinfo=UTC)  # over the spring clock change in Lisbon
    fleet = Fleet(FleetConfig(meters=16, interval_s=1800, meters_per_transformer=4), start)
    faults = FaultConfig.model_validate(
        {
            "rates": {
                FaultKind.REGISTER_DECREASE: 0.01,
                FaultKind.RESET: 0.004,
                FaultKind.ROLLOVER: 0.5,
                FaultKind.MISSING: 0.02,
            }
        }
    )
    injector = FaultInjector(faults, 1800, seed=11)
    emissions = [injector.inject(when, readings) for when, readings in fleet.run(200)]
    emissions.append(injector.drain())
    return [
        r.model_copy(update={"meter_id": f"F{tag}{RUN}-{r.meter_id}"})
        for emission in emissions
        for r in emission.readings
    ]


async def test_batch_days_equal_the_streaming_running_totals(
    connections: ConnectionSettings,
) -> None:
    readings = fleet_with_register_faults("S")
    # the day so far after every reading: the last day's row holds all of its readings
    totals = TotalsAggregator(time_zone=ZONE, running_every_min=0)
    written = await store_as_the_app_does(connections, readings, prod_settings(totals=totals))
    failed = {rule for batch in written for c in batch.readings for rule in c.verdict.failed_rules}
    assert "register" in failed  # the faults reached the rules: the case is not trivial

    meters = {r.meter_id for r in readings}
    first = min(r.ts for r in readings).date()
    last = max(r.ts for r in readings).date() + timedelta(days=1)
    days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    streaming = {
        (r.meter_id, r.day.date()): r
        for r in select(
            connections,
            "SELECT meter_id, day, energy_mwh, cost FROM meter_totals_by_day "
            "WHERE meter_id = ? AND month = ?",
            [(m, month) for m in meters for month in months_of(days)],
        )
    }
    settings = BatchSettings(time_zone=ZONE)
    run_job(connections, "energy", first, last, sorted(meters), settings)
    batch = batch_days(connections, meters, days)
    counted = {k: r for k, r in streaming.items() if r.energy_mwh or k in batch}
    assert set(batch) == set(counted)
    for key, row in counted.items():
        assert (batch[key].energy_mwh, batch[key].cost) == (row.energy_mwh, row.cost), key
    assert date(2024, 3, 31) in {d for _, d in batch}  # the 23-hour day is among them

    again = run_job(connections, "energy", first, last, sorted(meters), settings)
    assert batch_days(connections, meters, days) == batch
    assert again.written["energy_by_meter_day"] == len(batch)


def test_a_range_without_readings_is_one_clear_error(connections: ConnectionSettings) -> None:
    with pytest.raises(EmptyRangeError) as error:
        run_job(connections, "energy", date(2099, 12, 1), date(2099, 12, 2), [f"none{RUN}"])
    assert str(error.value) == (
        f"no counted reading for local days 2099-12-01..2099-12-02 of meters none{RUN}"
    )
