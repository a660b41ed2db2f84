"""Running totals wired into the app: through the validator and the batch builder.

Readings go through :class:`BatchBuilder` as the app's workers feed it, and the rows the
Cassandra sink would upsert (the last figures per meter-day) are compared with
:class:`RunningTotals` fed directly (:mod:`tests.totals_expectations`). Crashes and
redeliveries are covered by the crash harness of ``test_streaming_app_recovery``, which
compares the totals rows too.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cassandra.query import UNSET_VALUE
from pydantic import ValidationError

from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import encode_batch
from smart_meter.energy.attribution import HALF_HOUR_MS
from smart_meter.energy.tariff import DEFAULT_TARIFF_CSV
from smart_meter.reading import Reading
from streaming_app.rules.testing import faulty_stream, reading
from streaming_app.runtime.batching import BatchBuilder, Built, Incoming
from streaming_app.sinks.cassandra_totals import latest_totals, totals_values
from streaming_app.totals import DayTotals, TotalsAggregator
from streaming_app.validation import ValidationSettings, demo_settings, prod_settings
from tests.totals_expectations import expected_totals, figures

DAY = "2024-01-15"  # the day of streaming_app.rules.testing.reading
Rows = dict[tuple[str, str], DayTotals]


def every_reading(**totals: str) -> ValidationSettings:
    """The prod preset with the day so far written after every reading (the arithmetic)."""
    return prod_settings(totals=TotalsAggregator(running_every_min=0, **totals))


def build(readings: list[Reading], settings: ValidationSettings, per_batch: int) -> list[Built]:
    """One reading per message, ``per_batch`` messages per batch, as a worker builds them."""
    return asyncio.run(build_batches(readings, settings, per_batch))


async def build_batches(
    readings: list[Reading], settings: ValidationSettings, per_batch: int
) -> list[Built]:
    builder = BatchBuilder(0, 1, settings.validator())
    messages = [Incoming(encode_batch([r]), "p.0", seq) for seq, r in enumerate(readings, 1)]
    built = []
    for start in range(0, len(messages), per_batch):
        built.append(await builder.build(messages[start : start + per_batch], 0))
        builder.committed(built[-1])
    return built


def table(readings: list[Reading], settings: ValidationSettings, per_batch: int = 7) -> Rows:
    """What ``meter_totals_by_day`` holds after the batches: the last upsert of each key."""
    rows: Rows = {}
    for built in build(readings, settings, per_batch):
        rows.update({(t.meter_id, t.day): t for t in latest_totals(built.batch.totals)})
    return rows


def fleet(meters: int, half_hours: int, start: datetime) -> list[Reading]:
    readings = Fleet(FleetConfig(meters=meters, interval_s=1800), start).run(half_hours)
    return [item for _, interval in readings for item in interval]


def test_totals_through_the_batch_builder_equal_running_totals_fed_directly() -> None:
    readings = fleet(6, 150, datetime(2024, 1, 30, 1, tzinfo=UTC))  # over a month's end
    rows = table(readings, prod_settings())
    assert {key: figures(totals) for key, totals in rows.items()} == expected_totals(readings)
    assert {day for _, day in rows} == {"2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"}
    for totals in rows.values():
        assert sum(mwh for _, mwh in totals.half_hours) == totals.energy_mwh
    for meter_id in {m for m, _ in rows}:
        january = [rows[(meter_id, day)] for day in ("2024-01-30", "2024-01-31")]
        assert january[-1].month_mwh == sum(t.energy_mwh for t in january)
        assert rows[(meter_id, "2024-02-02")].month_mwh == sum(
            rows[(meter_id, day)].energy_mwh for day in ("2024-02-01", "2024-02-02")
        )


def test_a_batch_writes_one_row_per_meter_day_and_no_totals_among_its_events() -> None:
    readings = fleet(4, 60, datetime(2024, 3, 1, 20, tzinfo=UTC))  # to 02:00 on March 3
    [built] = build(readings, prod_settings(), per_batch=len(readings))
    keys = [(t.meter_id, t.day) for t in latest_totals(built.batch.totals)]
    assert len(readings) == 240
    assert len(keys) == len(set(keys)) == 4 * 3
    assert not [event for event in built.batch.events if isinstance(event, DayTotals)]


@pytest.mark.parametrize("action", ["flag", "reject"])
def test_a_register_rising_faster_than_the_connection_allows_adds_nothing(action: str) -> None:
    settings = prod_settings(register_check={"action": action})
    readings = [
        reading("10:00", 10_000.0),
        reading("10:30", 10_100.0),
        reading("11:00", 900_000.0),  # 1.8 MW for half an hour: over the 100 kW limit
        reading("11:30", 10_300.0),  # flagged: a decrease from the flagged spike
        reading("12:00", 10_400.0),
    ]
    assert table(readings, settings)[("M1", DAY)].energy_mwh == 400_000


def test_a_flagged_falling_register_is_no_reference_but_a_reset_restarts_counting() -> None:
    dip = [reading("10:00", 10_000.0), reading("10:30", 10_100.0)]
    dip += [reading("11:00", 9_000.0), reading("11:30", 10_300.0)]
    assert table(dip, every_reading())[("M1", DAY)].energy_mwh == 300_000
    reset = [reading("10:00", 10_000.0), reading("10:30", 10_100.0)]
    reset += [reading("11:00", 50.0), reading("11:30", 150.0)]
    assert table(reset, every_reading())[("M1", DAY)].energy_mwh == 200_000


def test_a_register_rollover_adds_the_wrapped_energy() -> None:
    readings = [reading("10:00", 99_999_900.0), reading("10:30", 100.0)]
    assert table(readings, every_reading())[("M1", DAY)].energy_mwh == 200_000


@pytest.mark.parametrize("conflicting", ["reject", "flag"])
def test_duplicates_identical_or_conflicting_add_nothing(conflicting: str) -> None:
    settings = prod_settings(duplicate={"action": conflicting})
    readings = [reading("10:00", 1_000.0), reading("10:30", 1_100.0)]
    readings += [reading("10:30", 1_100.0), reading("10:30", 1_150.0), reading("11:00", 1_200.0)]
    rows = table(readings, settings, per_batch=2)
    assert rows[("M1", DAY)].energy_mwh == 200_000
    assert rows == table([readings[0], readings[1], readings[4]], settings)


def test_days_are_local_to_the_time_zone_and_an_ended_day_is_final() -> None:
    settings = every_reading(time_zone="Europe/Lisbon")  # UTC+1 in July
    clocks = (("22:00", 0.0), ("23:00", 500.0), ("23:30", 800.0))  # 23:00 UTC is 00:00 local
    readings = [reading(f"2024-07-01T{clock}Z", wh) for clock, wh in clocks]
    rows = table(readings, settings)
    ended, current = rows[("M1", "2024-07-01")], rows[("M1", "2024-07-02")]
    assert (ended.energy_mwh, ended.final) == (500_000, True)
    assert ended.through_ms == int(datetime(2024, 7, 1, 23, tzinfo=UTC).timestamp() * 1000)
    assert (current.energy_mwh, current.month_mwh, current.final) == (300_000, 800_000, False)
    assert ended.month_mwh == 500_000  # July to date at the end of July 1


def test_the_half_hours_of_a_day_are_consecutive_as_the_table_stores_them() -> None:
    readings = faulty_stream(seed=5, meters=3, intervals=300)  # gaps, late, resets, ...
    days = [t for built in build(readings, prod_settings(), 9) for t in built.batch.totals]
    assert len({(t.meter_id, t.day) for t in days}) >= 3 * 6
    for totals in days:
        starts = [start for start, _ in totals.half_hours]
        assert starts == [starts[0] + i * HALF_HOUR_MS for i in range(len(starts))]


def quarter_hours(start: datetime, count: int) -> list[Reading]:
    """One meter's readings every 15 minutes from ``start``, 25 Wh each."""
    return [
        Reading(meter_id="Q1", ts=start + timedelta(minutes=15 * i), import_wh=1000.0 + 25.0 * i)
        for i in range(count)
    ]


def test_the_day_so_far_is_upserted_once_an_hour_of_event_time_and_the_ended_day_always() -> None:
    readings = quarter_hours(datetime(2024, 5, 6, 20, tzinfo=UTC), 4 * 6 + 1)  # 20:00 to 02:00
    per_reading = build(readings, prod_settings(), per_batch=1)
    written = [latest_totals(built.batch.totals) for built in per_reading]
    hours = [i for i, totals in enumerate(written) if totals]
    assert hours == list(range(0, len(readings), 4))  # the readings at 20:00, 21:00, ... 02:00
    midnight = written[16]
    assert [(t.day, t.final) for t in midnight] == [("2024-05-06", True), ("2024-05-07", False)]
    assert midnight[0].energy_mwh == 16 * 25_000  # 20:00 to 24:00, every quarter-hour counted
    assert midnight[0].through_ms == int(datetime(2024, 5, 7, tzinfo=UTC).timestamp() * 1000)
    every = build(readings, every_reading(), per_batch=1)
    assert all(len(latest_totals(built.batch.totals)) >= 1 for built in every)


@pytest.mark.parametrize("per_batch", [1, 3, 10, 1000])
def test_which_day_so_far_rows_are_written_does_not_depend_on_where_batches_end(
    per_batch: int,
) -> None:
    readings = fleet(5, 70, datetime(2024, 3, 1, 21, 30, tzinfo=UTC))
    rows = table(readings, prod_settings(), per_batch=per_batch)
    assert {key: figures(totals) for key, totals in rows.items()} == expected_totals(readings)


def test_a_row_binds_local_month_and_day_and_the_half_hours_as_a_list_from_the_first() -> None:
    totals = DayTotals(
        "M1", "2024-02-29", 3, Decimal("0.5"), ((1, 1), (2, 2)), 9, Decimal(1), "EUR", 5, True
    )
    assert totals_values(totals) == (
        "M1", date(2024, 2, 1), date(2024, 2, 29), 3, Decimal("0.5"), "EUR", 1, [1, 2], 9,
        Decimal(1), 5, True,
    )  # fmt: skip
    begun = dataclasses.replace(totals, energy_mwh=0, half_hours=(), final=False)
    assert totals_values(begun)[6:8] == (UNSET_VALUE, UNSET_VALUE)


def test_totals_aggregate_after_the_rules_under_the_shipped_tariff_in_utc_days() -> None:
    for settings in (prod_settings(), demo_settings()):
        totals = settings.totals
        assert settings.aggregators() == (totals,)
        assert all(rule.id != totals.id for rule in settings.rules())
        assert (totals.tariff_csv, totals.time_zone) == (DEFAULT_TARIFF_CSV, "UTC")


def test_tariff_and_time_zone_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flat = tmp_path / "flat.csv"
    prices = [f"{hour:02d}:{minute:02d},0.5" for hour in range(24) for minute in (0, 30)]
    flat.write_text("\n".join(["period,tariff", *prices]) + "\n")
    monkeypatch.setenv("SMART_METER_VALIDATION_TOTALS__TARIFF_CSV", str(flat))
    monkeypatch.setenv("SMART_METER_VALIDATION_TOTALS__TIME_ZONE", "Europe/London")
    settings = prod_settings()
    assert (settings.totals.tariff_csv, settings.totals.time_zone) == (flat, "Europe/London")
    rows = table([reading("10:00", 0.0), reading("11:00", 2_000.0)], settings)
    assert rows[("M1", DAY)].cost == Decimal("1")  # 2 kWh at 0.5


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"tariff_csv": "/nowhere/tariff.csv"}, "No such file"),
        ({"time_zone": "Nowhere/Atlantis"}, "No time zone"),
        ({"time_zone": "Asia/Kathmandu"}, "whole half-hours"),
    ],
)
def test_a_tariff_or_zone_that_cannot_be_used_is_refused_with_the_settings(
    override: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        prod_settings(totals=override)
