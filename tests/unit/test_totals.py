"""Running totals: energy attributed to half-hours in proportion to time; days, months, cost.

The assignment's inputs (../shared/data/ps2024-tp1, registers in kWh, times UTC) with the
figures worked out by hand, plus an independent exact computation with fractions.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import orjson
import pytest

from smart_meter.energy.tariff import Tariff, load_tariff
from streaming_app.totals import DayTotals, MonthTotal, TotalsAggregator
from tests.shared_data import shared_file
from tests.totals_expectations import TotalsTable

TARIFF = load_tariff()
MWH_PER_KWH = 1_000_000


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def rows(name: str) -> list[tuple[str, int, float]]:
    """(meter, epoch ms, register Wh) of an assignment file ``time;meter;kWh``."""
    out = []
    for line in shared_file("ps2024-tp1", name).read_text().splitlines():
        if line.strip():
            when, meter, kwh = line.split(";")
            out.append((meter, epoch_ms(when), float(kwh) * 1000))
    return out


def replay(name: str) -> tuple[TotalsTable, list[DayTotals | MonthTotal]]:
    totals, closed = TotalsTable(TARIFF), []
    for meter, ts_ms, register_wh in rows(name):
        closed += totals.add(meter, ts_ms, register_wh)
    return totals, closed


def exact_half_hours(readings: list[tuple[int, float]]) -> dict[int, Fraction]:
    """kWh per half-hour (UTC start ms), by exact overlap of each interval with each half-hour."""
    profile: dict[int, Fraction] = {}
    for (t0, r0), (t1, r1) in itertools.pairwise(readings):
        rate = Fraction(r1 - r0) / 1000 / (t1 - t0)  # kWh per ms
        for start in range(t0 // 1_800_000 * 1_800_000, t1, 1_800_000):
            overlap = min(start + 1_800_000, t1) - max(start, t0)
            profile[start] = profile.get(start, Fraction(0)) + rate * overlap
    return profile


def exact_cost(profile: dict[int, Fraction], day: str) -> Fraction:
    cost = Fraction(0)
    for start, kwh in profile.items():
        local = datetime.fromtimestamp(start / 1000, UTC)
        if local.date().isoformat() == day:
            cost += kwh * Fraction(TARIFF.price_at(local))
    return cost


def days(closed: list[DayTotals | MonthTotal]) -> dict[tuple[str, str], DayTotals]:
    return {(c.meter_id, c.day): c for c in closed if isinstance(c, DayTotals)}


def test_q1_energy_between_readings_across_midnight_is_split_by_time() -> None:
    totals, closed = replay("test-q1.csv")
    # 05:00:01 -> next day 02:04:00 is 75,839 s with 68,399 s before midnight:
    # day 1 = 1000 + 1000 + 1000 * 68399/75839 = 2901.897 kWh, day 2 = 6000 - that
    day_one = days(closed)[("A", "2024-02-01")]
    assert day_one.energy_mwh == 2_000 * MWH_PER_KWH + 1_000 * MWH_PER_KWH * 68_399 // 75_839
    state = totals.totals("A")
    assert state is not None
    assert state.day == "2024-02-02"
    assert state.day_mwh == 3_098_102_560
    assert state.month_mwh == 6_000 * MWH_PER_KWH  # month to date = last - first register


def test_q1_half_hours_are_proportional_to_time() -> None:
    _, closed = replay("test-q1.csv")
    half_hours = dict(days(closed)[("A", "2024-02-01")].half_hours)
    # 00:00-03:04 (184 min) carries 1000 kWh: 30/184 of it per whole half-hour
    assert half_hours[epoch_ms("2024-02-01 00:00")] == 163_043_478
    # 03:00-03:30: 4/184 of the first 1000 kWh, 1560 s of the 6961 s of the second:
    # 21.739 + 224.106 = 245.845 kWh (whole mWh: each part is off by less than 1 mWh)
    exact_mwh = MWH_PER_KWH * 1000 * (4 / 184 + 1560 / 6961)
    assert half_hours[epoch_ms("2024-02-01 03:00")] == pytest.approx(exact_mwh, abs=2)


def test_q1_costs_match_an_exact_computation() -> None:
    totals, closed = replay("test-q1.csv")
    readings = [(ts, wh) for _, ts, wh in rows("test-q1.csv")]
    profile = exact_half_hours(readings)
    day_one = days(closed)[("A", "2024-02-01")]
    assert abs(Fraction(day_one.cost) - exact_cost(profile, "2024-02-01")) < Fraction(1, 10**6)
    state = totals.totals("A")
    assert state is not None
    assert abs(Fraction(state.day_cost) - exact_cost(profile, "2024-02-02")) < Fraction(1, 10**6)
    assert state.month_cost == day_one.cost + state.day_cost


def test_test1_every_half_hour_gets_1000_kwh_and_a_day_costs_7546_eur() -> None:
    totals, closed = replay("test1.csv")
    # 48 half-hours of 1000 kWh; prices: 20 x 0.1072 + 20 x 0.1741 + 8 x 0.24 = 7.546 EUR/kWh
    for meter in "AB":
        for day in ("2024-02-01", "2024-02-02", "2024-02-03"):
            total = days(closed)[(meter, day)]
            assert total.energy_mwh == 48_000 * MWH_PER_KWH
            assert {mwh for _, mwh in total.half_hours} == {1_000 * MWH_PER_KWH}
            assert len(total.half_hours) == 48
            assert total.cost == Decimal("7546.0000")
    a, b = totals.totals("A"), totals.totals("B")
    assert a is not None and b is not None
    assert (a.day, a.day_mwh, a.day_cost) == ("2024-02-04", 2_000 * MWH_PER_KWH, Decimal("214.4"))
    assert (b.day, b.day_mwh, b.day_cost) == ("2024-02-04", 1_000 * MWH_PER_KWH, Decimal("107.2"))
    assert (a.month_mwh, b.month_mwh) == (146_000 * MWH_PER_KWH, 145_000 * MWH_PER_KWH)
    assert (a.month_cost, b.month_cost) == (Decimal("22852.4"), Decimal("22745.2"))


def test_q3_readings_straddling_half_hours_are_split_by_the_seconds_on_each_side() -> None:
    totals, closed = replay("test-q3.csv")
    day_one = days(closed)[("A", "2024-02-01")]
    # 23:58:54 (90 kWh) -> 00:00:24 (93 kWh): 66 of the 90 s are before midnight
    assert day_one.energy_mwh == (90 - 10) * MWH_PER_KWH + 3 * MWH_PER_KWH * 66 // 90  # 82.2
    half_hours = {datetime.fromtimestamp(t / 1000, UTC): mwh for t, mwh in day_one.half_hours}
    assert half_hours[datetime(2024, 2, 1, 0, 30, tzinfo=UTC)] == 1 * MWH_PER_KWH
    assert half_hours[datetime(2024, 2, 1, 1, 30, tzinfo=UTC)] == 733_333  # 66/90 kWh
    assert half_hours[datetime(2024, 2, 1, 2, 0, tzinfo=UTC)] == 266_667  # 24/90 kWh
    state = totals.totals("A")
    assert state is not None
    assert (state.day_mwh, state.month_mwh) == (469_800_000, 552 * MWH_PER_KWH)
    profile = exact_half_hours([(ts, wh) for _, ts, wh in rows("test-q3.csv")])
    assert abs(Fraction(day_one.cost) - exact_cost(profile, "2024-02-01")) < Fraction(1, 10**6)


def test_every_finished_day_is_the_sum_of_its_half_hours() -> None:
    for name in ("test1.csv", "test-q1.csv", "test-q3.csv"):
        for total in days(replay(name)[1]).values():
            assert sum(mwh for _, mwh in total.half_hours) == total.energy_mwh


def test_reading_older_than_the_newest_and_falling_registers_add_nothing() -> None:
    totals = TotalsTable(Tariff.flat(Decimal("0.2")))
    totals.add("M", epoch_ms("2024-02-01 10:00"), 1000.0)
    totals.add("M", epoch_ms("2024-02-01 11:00"), 3000.0)
    assert totals.add("M", epoch_ms("2024-02-01 10:30"), 2000.0) == []
    totals.add("M", epoch_ms("2024-02-01 11:30"), 500.0)  # reset: nothing attributed
    totals.add("M", epoch_ms("2024-02-01 12:00"), 900.0)
    state = totals.totals("M")
    assert state is not None
    assert state.day_mwh == 2_400_000
    assert state.day_cost == Decimal("0.48")


def test_rollover_energy_can_be_given_instead_of_the_register_difference() -> None:
    totals = TotalsTable(Tariff.flat(Decimal("0.1")))
    totals.add("M", epoch_ms("2024-02-01 10:00"), 999_900.0)
    totals.add("M", epoch_ms("2024-02-01 10:30"), 100.0, energy_wh=200.0)
    state = totals.totals("M")
    assert state is not None
    assert state.day_mwh == 200_000


def test_month_end_closes_the_day_and_the_month() -> None:
    totals = TotalsTable(Tariff.flat(Decimal("0.1")))
    totals.add("M", epoch_ms("2024-01-31 23:00"), 0.0)
    closed = totals.add("M", epoch_ms("2024-02-01 01:00"), 2000.0)
    assert closed == [
        DayTotals(
            "M",
            "2024-01-31",
            1_000_000,
            Decimal("0.1"),
            ((epoch_ms("2024-01-31 23:00"), 500_000), (epoch_ms("2024-01-31 23:30"), 500_000)),
            1_000_000,
            Decimal("0.1"),
            "EUR",
            epoch_ms("2024-02-01 00:00"),
            final=True,
        ),
        MonthTotal("M", "2024-01", 1_000_000, Decimal("0.1")),
    ]


def test_reading_exactly_at_midnight_starts_the_new_day() -> None:
    totals = TotalsTable(Tariff.flat(Decimal("0.1")))
    totals.add("M", epoch_ms("2024-02-01 23:00"), 0.0)
    closed = totals.add("M", epoch_ms("2024-02-02 00:00"), 1000.0)
    assert [(c.day, c.energy_mwh) for c in closed if isinstance(c, DayTotals)] == [
        ("2024-02-01", 1_000_000)
    ]
    state = totals.totals("M")
    assert state is not None
    assert (state.day, state.day_mwh, state.half_hours_mwh) == ("2024-02-02", 0, {})


@pytest.mark.parametrize(("day", "half_hours"), [("2024-03-31", 46), ("2024-10-27", 50)])
def test_days_with_a_clock_change_have_46_or_50_half_hours(day: str, half_hours: int) -> None:
    london = ZoneInfo("Europe/London")
    totals = TotalsTable(Tariff.flat(Decimal("0.1")), london)
    start = int(datetime.fromisoformat(f"{day}T00:00").replace(tzinfo=london).timestamp() * 1000)
    closed: list[DayTotals | MonthTotal] = []
    for step in range(60):
        closed += totals.add("M", start - 3_600_000 + step * 1_800_000, step * 100.0)
    [total] = [c for c in closed if isinstance(c, DayTotals) and c.day == day]
    assert len(total.half_hours) == half_hours
    assert total.energy_mwh == half_hours * 100_000


def test_time_zone_off_the_half_hour_grid_is_refused() -> None:
    totals = TotalsTable(TARIFF, ZoneInfo("Asia/Kathmandu"))  # UTC+05:45
    with pytest.raises(ValueError, match="half-hours"):
        totals.add("M", epoch_ms("2024-02-01 10:00"), 0.0)


def test_totals_state_round_trips_through_the_aggregator_and_resumes() -> None:
    aggregator, stream = TotalsAggregator(), rows("test-q3.csv")
    whole, first = aggregator.new_state(), aggregator.new_state()
    arithmetic = aggregator.arithmetic()
    for meter, ts_ms, register_wh in stream:
        arithmetic.count(meter, whole, ts_ms, register_wh)
    for meter, ts_ms, register_wh in stream[:70]:
        arithmetic.count(meter, first, ts_ms, register_wh)
    resumed = aggregator.load_state(orjson.loads(orjson.dumps(aggregator.dump_state(first))))
    for meter, ts_ms, register_wh in stream[70:]:
        arithmetic.count(meter, resumed, ts_ms, register_wh)
    assert resumed == whole


def test_a_silence_longer_than_the_bound_closes_the_day_and_restarts_counting() -> None:
    totals = TotalsTable(Tariff.flat(Decimal("0.1")), max_interval_ms=7 * 86_400_000)
    totals.add("M", epoch_ms("2024-02-01 10:00"), 1000.0)
    totals.add("M", epoch_ms("2024-02-01 10:30"), 1100.0)
    closed = totals.add("M", epoch_ms("2099-01-01 00:00"), 9_000_000.0)
    assert [(c.day, c.energy_mwh) for c in closed if isinstance(c, DayTotals)] == [
        ("2024-02-01", 100_000)
    ]
    assert len(closed) == 2  # the day, and its month: nothing for the 75 years between
    totals.add("M", epoch_ms("2099-01-01 00:30"), 9_000_500.0)
    state = totals.totals("M")
    assert state is not None
    assert (state.day, state.day_mwh) == ("2099-01-01", 500_000)
