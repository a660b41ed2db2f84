"""Running totals in the real Cassandra: ``meter_totals_by_day`` after a small fleet's batches.

A fleet of this run's own meters is validated batch by batch (as the app's workers do it)
over a month's end, every batch is written by the app's Cassandra sink (over each client),
and the table is read back: exactly one row per meter and local day, with the figures
:class:`RunningTotals` gives when fed the readings directly, half-hours adding up to
their day and days to the month to date. Live batches (one reading per meter) write a
meter's day so far once an hour of event time, not once per reading, and the day's
final row when a reading ends it: the rows each batch wrote are counted by their write
times in Cassandra.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from inject.fleet import Fleet, FleetConfig
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from streaming_app.runtime.wiring import open_cassandra_sink
from streaming_app.sinks.base import Sink
from tests.streaming_storage import batches
from tests.totals_expectations import STORED_COLUMNS, Expected, expected_totals, stored_row

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
START = datetime(2024, 1, 30, 21, tzinfo=UTC)  # 120 half-hours: to 09:00 on February 2
METERS, HALF_HOURS = 12, 120
MONTHS = (date(2024, 1, 1), date(2024, 2, 1))


def fleet_readings(tag: str) -> list[Reading]:
    """The fleet's readings in time order, meter ids of this run and ``tag`` only."""
    intervals = Fleet(FleetConfig(meters=METERS, interval_s=1800), START).run(HALF_HOURS)
    return [
        r.model_copy(update={"meter_id": f"T{tag}{RUN}-{r.meter_id}"})
        for _, readings in intervals
        for r in readings
    ]


def stored(connections: ConnectionSettings, meter_ids: set[str]) -> Expected:
    """The table's rows of these meters, as (meter, day) -> figures."""
    session = open_session(connections)
    try:
        query = session.prepare(
            f"SELECT {STORED_COLUMNS} FROM meter_totals_by_day "
            "WHERE meter_id = ? AND month IN (?, ?)"
        )
        found = [stored_row(row) for m in meter_ids for row in session.execute(query, (m, *MONTHS))]
        return {(row[0], row[1]): row[2:] for row in found}
    finally:
        session.cluster.shutdown()


@pytest.fixture(params=["driver", "acsylla"])
async def cassandra_sink(
    request: pytest.FixtureRequest, connections: ConnectionSettings
) -> AsyncIterator[Sink]:
    sink = await open_cassandra_sink(request.param, connections)
    yield sink
    await sink.close()


async def test_the_totals_table_holds_exactly_the_day_totals_of_a_small_fleet(
    cassandra_sink: Sink, connections: ConnectionSettings
) -> None:
    readings = fleet_readings("A")
    for batch in await batches(readings):
        await cassandra_sink.write(batch)
    meter_ids = {r.meter_id for r in readings}
    found = stored(connections, meter_ids)
    assert found == expected_totals(readings)
    assert {day for _, day in found} == {"2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"}
    assert len(found) == METERS * 4
    for energy_mwh, _, half_hours, *_ in found.values():
        assert sum(mwh for _, mwh in half_hours) == energy_mwh
    for meter_id in meter_ids:
        january = [found[(meter_id, day)] for day in ("2024-01-30", "2024-01-31")]
        assert january[-1][3] == sum(row[0] for row in january)  # the month's last row: its total
        assert january[-1][4] == sum((row[1] for row in january), start=0)


async def test_writing_the_totals_again_leaves_the_same_rows(
    cassandra_sink: Sink, connections: ConnectionSettings
) -> None:
    readings = fleet_readings("B")[: METERS * 10]
    written = await batches(readings)
    for batch in written:
        await cassandra_sink.write(batch)
    meter_ids = {r.meter_id for r in readings}
    first = stored(connections, meter_ids)
    await cassandra_sink.write(written[-1])
    assert stored(connections, meter_ids) == first == expected_totals(readings)


def write_times(connections: ConnectionSettings, meter_ids: set[str]) -> dict[tuple[str, str], int]:
    """When each totals row of these meters was last written (µs), by (meter, day)."""
    session = open_session(connections)
    try:
        query = session.prepare(
            "SELECT meter_id, day, WRITETIME(energy_mwh) FROM meter_totals_by_day "
            "WHERE meter_id = ? AND month IN (?, ?)"
        )
        rows = [row for m in meter_ids for row in session.execute(query, (m, *MONTHS))]
        return {(meter_id, str(day)): written for meter_id, day, written in rows}
    finally:
        session.cluster.shutdown()


async def test_live_batches_write_a_meters_day_so_far_once_an_hour_and_its_ended_day_final(
    cassandra_sink: Sink, connections: ConnectionSettings
) -> None:
    start = datetime(2024, 1, 31, 22, tzinfo=UTC)  # quarter-hours to 00:45 on February 1
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=900), start).run(12)
    tag = f"C{cassandra_sink.__class__.__name__[:3]}"
    readings = [
        r.model_copy(update={"meter_id": f"T{tag}{RUN}-{r.meter_id}"})
        for _, interval in fleet
        for r in interval
    ]
    meter_ids = {r.meter_id for r in readings}
    live = await batches(readings, per_message=1, per_batch=METERS)  # one reading per meter
    before: dict[tuple[str, str], int] = {}
    written_per_batch = []
    for batch in live:
        await cassandra_sink.write(batch)
        after = write_times(connections, meter_ids)
        written_per_batch.append(sum(1 for key, at in after.items() if before.get(key) != at))
        before = after
    hourly = [METERS, 0, 0, 0]  # 22:00 (a meter's first reading), then 23:00 ...
    assert written_per_batch == hourly + hourly + [2 * METERS, 0, 0, 0]  # 00:00: final + new
    assert sum(written_per_batch) == 4 * METERS  # one row per reading would be 12 per meter
    found = stored(connections, meter_ids)
    assert found == expected_totals(readings)
    for meter_id in meter_ids:
        ended = found[(meter_id, "2024-01-31")]
        assert ended[-1] is True  # final
        assert ended[0] == sum(mwh for _, mwh in ended[2])  # the whole day: 22:00 to 24:00
        assert found[(meter_id, "2024-02-01")][-1] is False
