"""The reporting mart on the real PostgreSQL of the stack: idempotent refreshes, and ODBC.

Each test refreshes a month of its own in a far-off year (test sessions of several
checkouts share the stack's database), and empties it again at the end.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from batch_app.mart import TABLES, MartError, MartFrames, refresh_mart
from batch_app.mart.connection import connect_mart
from batch_app.mart.tables import COMPLETENESS, SCHEMA
from batch_app.mart.window import RefreshWindow
from smart_meter.settings import ConnectionSettings
from tests.mart_examples import example_frames, with_frame
from tests.odbc_support import odbc_connect

pytestmark = pytest.mark.integration


@pytest.fixture
def month(connections: ConnectionSettings) -> Iterator[RefreshWindow]:
    """A month no other test uses (pandas times end in 2262); emptied afterwards."""
    first = date(random.randrange(2150, 2260), random.randrange(1, 13), 1)
    last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
    yield RefreshWindow(first, last)
    refresh_mart(connections, MartFrames.empty(), first, last)


def snapshot(connections: ConnectionSettings, window: RefreshWindow) -> dict[str, list[Any]]:
    """Every table's rows of the window, in key order."""
    rows = {}
    with connect_mart(connections) as connection:
        for table in TABLES:
            low, high = window.bounds(table.range_unit)
            found = connection.execute(
                f"SELECT * FROM {SCHEMA}.{table.name} "
                f"WHERE {table.range_column} >= %s AND {table.range_column} < %s "
                f"ORDER BY {', '.join(table.key)}",
                (low, high),
            ).fetchall()
            rows[table.name] = found
    return rows


def test_second_refresh_changes_nothing_and_a_narrower_one_touches_only_its_days(
    connections: ConnectionSettings, month: RefreshWindow
) -> None:
    first, last = month.first_day, month.first_day.replace(day=6)
    frames = example_frames(first, last)
    counts = refresh_mart(connections, frames, first, last)
    written = snapshot(connections, month)
    again = refresh_mart(connections, frames, first, last)
    assert snapshot(connections, month) == written
    assert dict(again.deleted) == dict(again.inserted) == dict(counts.inserted)
    assert counts.inserted["meter_daily"] == 18 and counts.inserted["meter_monthly"] == 3

    third = first.replace(day=3)
    changed = example_frames(third, third, scale=2)
    monthly = example_frames(first, last, scale=2)  # the month's rows come whole
    narrow = with_frame(changed, "meter_monthly", monthly.meter_monthly)
    narrow = with_frame(narrow, "transformer_monthly", monthly.transformer_monthly)
    refresh_mart(connections, narrow, third, third)
    after = snapshot(connections, month)

    day_of = {"meter_daily": 1, "transformer_daily": 1, "completeness": 1, "alerts": 0}
    for table, position in day_of.items():
        kept = [row for row in after[table] if row[position] != third]
        assert kept == [row for row in written[table] if row[position] != third], table
    new_day = [row for row in after["meter_daily"] if row[1] == third]
    old_day = [row for row in written["meter_daily"] if row[1] == third]
    assert [row[5] for row in new_day] == [2 * row[5] for row in old_day]
    assert [row[0] for row in after["alerts"] if row[0] == third] == [third]
    assert after["meter_monthly"] != written["meter_monthly"]


def test_values_come_back_exactly_as_the_batch_wrote_them(
    connections: ConnectionSettings, month: RefreshWindow
) -> None:
    frames = example_frames(month.first_day, month.first_day)
    refresh_mart(connections, frames, month.first_day, month.first_day)
    rows = snapshot(connections, month)
    expected = frames.meter_daily.sort_values(["meter_id", "day"])
    assert [row[4] for row in rows["meter_daily"]] == expected["energy_kwh"].tolist()
    assert [row[6] for row in rows["meter_daily"]] == expected["cost"].tolist()
    gap = rows["gaps"][-1]
    assert gap[0] == "M0000003" and gap[2] is None and gap[4] is True


def test_failed_refresh_is_rolled_back_and_leaves_the_previous_data(
    connections: ConnectionSettings, month: RefreshWindow
) -> None:
    frames = example_frames(month.first_day, month.first_day.replace(day=2))
    refresh_mart(connections, frames, month.first_day, month.first_day.replace(day=2))
    before = snapshot(connections, month)
    impossible = frames.completeness.assign(completeness=1.5)  # the table's CHECK refuses it
    broken = with_frame(frames, COMPLETENESS.name, impossible)
    with pytest.raises(MartError, match="failed and was rolled back, the previous data stay"):
        refresh_mart(connections, broken, month.first_day, month.first_day.replace(day=2))
    assert snapshot(connections, month) == before


def test_odbc_client_reads_back_the_values_the_refresh_wrote(
    connections: ConnectionSettings, month: RefreshWindow
) -> None:
    frames = example_frames(month.first_day, month.first_day.replace(day=2))
    refresh_mart(connections, frames, month.first_day, month.first_day.replace(day=2))
    odbc = odbc_connect(connections)
    try:
        cursor = odbc.cursor()
        daily = cursor.execute(
            "SELECT meter_id, day, energy_mwh, energy_kwh, cost, currency "
            "FROM mart.meter_daily WHERE day BETWEEN ? AND ? ORDER BY meter_id, day",
            month.first_day,
            month.last_day,
        ).fetchall()
        bill = cursor.execute(
            "SELECT meter_id, energy_kwh, cost, days, completeness "
            "FROM mart.meter_monthly_bill WHERE month = ? ORDER BY meter_id",
            month.first_day,
        ).fetchall()
        meaning = cursor.execute(
            "SELECT meaning FROM mart.data_dictionary "
            "WHERE table_name = 'meter_daily' AND column_name = 'energy_mwh'"
        ).fetchone()
    finally:
        odbc.close()
    expected = frames.meter_daily.sort_values(["meter_id", "day"])
    assert [tuple(row) for row in daily] == list(
        expected[["meter_id", "day", "energy_mwh", "energy_kwh", "cost", "currency"]].itertuples(
            index=False, name=None
        )
    )
    monthly = frames.meter_monthly.sort_values("meter_id")
    assert [row.cost for row in bill] == [
        cost.quantize(Decimal("0.01")) for cost in monthly["cost"]
    ]
    assert [row.energy_kwh for row in bill] == monthly["energy_kwh"].tolist()
    assert [row.completeness for row in bill] == [1.0, 47 / 48, 46 / 48]
    assert meaning is not None and "milliwatt-hours" in meaning[0]
