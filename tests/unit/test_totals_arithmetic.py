"""Attribution arithmetic under hypothesis: parts add up exactly, at every level."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from smart_meter.energy.attribution import HALF_HOUR_MS, split_energy, to_mwh
from smart_meter.energy.tariff import load_tariff
from streaming_app.totals import DayTotals, MonthTotal
from tests.totals_expectations import TotalsTable

JAN_30_MS = 1_706_572_800_000  # 2024-01-30T00:00Z


@given(
    start_ms=st.integers(0, 10**13),
    duration_ms=st.integers(1, 5 * 86_400_000),
    energy_mwh=st.integers(0, 10**12),
)
def test_parts_of_an_interval_add_up_to_its_energy_in_time_proportion(
    start_ms: int, duration_ms: int, energy_mwh: int
) -> None:
    parts = split_energy(start_ms, start_ms + duration_ms, energy_mwh)
    assert sum(mwh for _, mwh in parts) == energy_mwh
    assert [p for p, _ in parts] == list(range(parts[0][0], parts[-1][0] + 1, HALF_HOUR_MS))
    for period, mwh in parts:
        overlap = min(period + HALF_HOUR_MS, start_ms + duration_ms) - max(period, start_ms)
        assert abs(mwh - energy_mwh * overlap / duration_ms) <= 1


readings = st.lists(
    st.tuples(st.integers(1, 3 * 86_400_000), st.integers(0, 500_000)), min_size=1, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(steps=readings, first_register=st.integers(0, 10**9))
def test_half_hours_sum_to_days_days_to_months_and_all_to_the_register_difference(
    steps: list[tuple[int, int]], first_register: int
) -> None:
    totals, closed = TotalsTable(load_tariff()), []
    ts_ms, register = JAN_30_MS + 12_345, first_register  # registers in 0.1 Wh
    closed += totals.add("M", ts_ms, register / 10)
    for gap_ms, tenth_wh in steps:
        ts_ms, register = ts_ms + gap_ms, register + tenth_wh
        closed += totals.add("M", ts_ms, register / 10)
    state = totals.totals("M")
    assert state is not None
    finished_days = [c for c in closed if isinstance(c, DayTotals)]
    finished_months = [c for c in closed if isinstance(c, MonthTotal)]
    for day in finished_days:
        assert sum(mwh for _, mwh in day.half_hours) == day.energy_mwh
    assert sum(state.half_hours_mwh.values()) == state.day_mwh
    for month in finished_months:
        in_month = [d for d in finished_days if d.day.startswith(month.month)]
        assert sum(d.energy_mwh for d in in_month) == month.energy_mwh
        assert sum((d.cost for d in in_month), Decimal(0)) == month.cost
    current = [d for d in finished_days if d.day.startswith(state.month)]
    assert sum(d.energy_mwh for d in current) + state.day_mwh == state.month_mwh
    assert sum((d.cost for d in current), Decimal(0)) + state.day_cost == state.month_cost
    everything = sum(d.energy_mwh for d in finished_days) + state.day_mwh
    assert everything == to_mwh(register / 10) - to_mwh(first_register / 10)
