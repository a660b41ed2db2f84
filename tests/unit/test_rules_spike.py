"""Spike rule: interval power far above the meter's recent median (or mean)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from streaming_app.rules import Action
from streaming_app.rules.events import Spike
from streaming_app.rules.spike import SpikeRule, baseline, reference
from streaming_app.rules.testing import ms, reading, run_rule

CLOCKS = [f"{h:02d}:{m:02d}" for h in range(10, 16) for m in (0, 30)]


def steady(count: int, step_wh: float = 100.0) -> list:  # type: ignore[type-arg]
    return [reading(CLOCKS[i], 1000.0 + i * step_wh) for i in range(count)]


def test_interval_far_above_the_recent_median_is_a_spike() -> None:
    stream = [*steady(7), reading(CLOCKS[7], 1600.0 + 2100.0)]  # 4200 W against 200 W
    findings, _ = run_rule(SpikeRule(min_history=6), stream)
    assert [f.event for f in findings[7]] == [Spike("M1", ms(CLOCKS[7]), 4200.0, 200.0)]


def test_zero_intervals_stay_out_of_the_history() -> None:
    zeros = [reading(CLOCKS[7 + i], 1600.0) for i in range(4)]
    stream = [*steady(7), *zeros, reading(CLOCKS[11], 1800.0)]  # back to 400 W
    findings, state = run_rule(SpikeRule(min_history=6), stream)
    assert findings[-1] == []
    assert state.history_w == [200.0] * 6 + [400.0]


def test_lasting_change_of_level_stops_being_a_spike_once_it_fills_half_the_recent_window() -> None:
    stream = [reading(f"{h:02d}:00", h * 100.0) for h in range(7)]  # 100 W
    stream += [reading(f"{h:02d}:00", 600.0 + (h - 6) * 2000.0) for h in range(7, 14)]  # 2 kW
    findings, _ = run_rule(SpikeRule(min_history=6, history_size=12), stream)
    assert [bool(found) for found in findings[7:]] == [True] * 3 + [False] * 4


def test_without_a_recent_window_a_change_of_level_is_a_spike_until_half_the_history() -> None:
    stream = [reading(f"{h:02d}:00", h * 100.0) for h in range(7)]  # 100 W
    stream += [reading(f"{h:02d}:00", 600.0 + (h - 6) * 2000.0) for h in range(7, 14)]  # 2 kW
    rule = SpikeRule(min_history=6, history_size=12, recent_intervals=0)
    findings, _ = run_rule(rule, stream)
    assert [bool(found) for found in findings[7:]] == [True] * 6 + [False]


def test_a_rise_to_a_level_the_meter_has_just_reached_is_not_a_spike() -> None:
    night = [reading(f"{h:02d}:00", 1000.0 + h * 100.0) for h in range(8)]  # 100 W
    day = [reading(f"{h:02d}:00", 1700.0 + (h - 7) * 1000.0) for h in range(8, 11)]  # 1 kW
    morning = [*night, *day, reading("11:00", 5900.0)]  # 1.2 kW: 12 x the night's median
    rule = SpikeRule(min_history=6, history_size=48, recent_intervals=3)
    findings, _ = run_rule(rule, morning)
    assert [bool(found) for found in findings[8:]] == [True, True, False, False]


def test_no_judgement_before_the_minimum_history() -> None:
    stream = [*steady(3), reading(CLOCKS[3], 1200.0 + 5000.0)]
    findings, _ = run_rule(SpikeRule(min_history=6), stream)
    assert findings[3] == []


def test_long_interval_after_a_gap_is_judged_by_its_average_power() -> None:
    stream = [*steady(7), reading("18:00", 1600.0 + 900.0)]  # 900 Wh over 4.5 h: 200 W
    findings, _ = run_rule(SpikeRule(min_history=6), stream)
    assert findings[7] == []


def test_small_absolute_power_is_never_a_spike() -> None:
    stream = [*steady(7, step_wh=1.0), reading(CLOCKS[7], 1006.0 + 40.0)]  # 80 W vs 2 W
    findings, _ = run_rule(SpikeRule(min_history=6, min_power_w=100.0), stream)
    assert findings[7] == []


def test_rejected_spike_leaves_the_reference_reading_unchanged() -> None:
    stream = [*steady(7), reading(CLOCKS[7], 5000.0), reading(CLOCKS[8], 1800.0)]
    findings, state = run_rule(SpikeRule(min_history=6, action=Action.REJECT), stream)
    assert [f.action for f in findings[7]] == [Action.REJECT]
    assert findings[8] == []  # 1800 - 1600 Wh over an hour: 200 W
    assert len(state.history_w) == 7  # the spike's power did not join the history


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_baselines_match_numpy(history: list[float]) -> None:
    assert baseline(history, "median") == np.median(history)
    assert np.isclose(baseline(history, "mean"), np.mean(history), rtol=1e-12, atol=1e-9)


@given(
    st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60),
    st.integers(0, 12),
)
def test_the_reference_is_the_baseline_floored_by_the_latest_median(
    history: list[float], recent: int
) -> None:
    level = reference(history, "median", recent)
    assert level >= baseline(history, "median")
    if recent:
        assert level == max(np.median(history), np.median(history[-recent:]))
    else:
        assert level == np.median(history)
