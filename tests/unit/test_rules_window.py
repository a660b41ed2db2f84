"""Window threshold: energy per meter in event-time sliding windows; one alert per episode."""

from __future__ import annotations

import itertools
from datetime import timedelta
from fractions import Fraction

import numpy as np
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from streaming_app.rules.events import Alert, ThresholdKind
from streaming_app.rules.testing import DAY, at, ms, reading, run_rule
from streaming_app.rules.window import WindowThresholdRule, consumption_at
from streaming_app.validation import demo_settings, prod_settings

DEMO = demo_settings().window_threshold  # 60 s windows sliding by 15 s, 50 Wh


def every_15_s(start: str, wh_steps: list[float], register_wh: float = 0.0) -> list:  # type: ignore[type-arg]
    stream, first = [], at(start)
    for index, step_wh in enumerate([0.0, *wh_steps]):
        register_wh += step_wh
        stream.append(reading(first + timedelta(seconds=15 * index), register_wh))
    return stream


def alerts(findings: list[list]) -> list[Alert]:  # type: ignore[type-arg]
    return [f.event for found in findings for f in found if isinstance(f.event, Alert)]


def test_presets_match_the_design() -> None:
    assert (DEMO.window_ms, DEMO.slide_ms, DEMO.threshold_wh) == (60_000, 15_000, 50.0)
    prod = prod_settings().window_threshold
    assert (prod.window_ms, prod.slide_ms, prod.threshold_wh) == (900_000, 300_000, 2_000.0)


def test_breach_that_lasts_raises_one_alert() -> None:
    stream = every_15_s("10:00", [25.0] * 40)  # 100 Wh a minute for 10 minutes
    findings, _ = run_rule(DEMO, stream)
    assert alerts(findings) == [
        Alert("M1", ThresholdKind.WINDOW_ENERGY, ms("10:00"), ms("10:01"), 100.0, 50.0, "Wh")
    ]


def test_breach_ends_and_a_new_one_raises_a_second_alert() -> None:
    stream = every_15_s("10:00", [25.0] * 8 + [5.0] * 8 + [25.0] * 8)
    found = alerts(run_rule(DEMO, stream)[0])
    assert [(a.start_ms, a.end_ms, a.value) for a in found] == [
        (ms("10:00"), ms("10:01"), 100.0),
        (ms("10:03:30"), ms("10:04:30"), 60.0),  # 2 x 5 Wh + 2 x 25 Wh
    ]


def test_energy_is_spread_over_windows_in_proportion_to_time() -> None:
    stream = [reading("10:00", 0.0), reading("10:04", 400.0)]  # 4 minutes, 100 Wh each
    found = alerts(run_rule(DEMO, stream)[0])
    assert found == [
        Alert("M1", ThresholdKind.WINDOW_ENERGY, ms("10:00"), ms("10:01"), 100.0, 50.0, "Wh")
    ]


def test_first_window_starts_at_or_after_the_first_reading() -> None:
    stream = [reading("10:00:20", 0.0), reading("10:03", 320.0)]  # 2 Wh a second
    found = alerts(run_rule(DEMO, stream)[0])
    assert found == [
        Alert("M1", ThresholdKind.WINDOW_ENERGY, ms("10:00:30"), ms("10:01:30"), 120.0, 50.0, "Wh")
    ]


def test_below_threshold_raises_nothing() -> None:
    assert alerts(run_rule(DEMO, every_15_s("10:00", [12.5] * 20))[0]) == []


def test_falling_register_adds_no_consumption() -> None:
    stream = [reading("10:00", 5000.0), reading("10:01", 100.0), reading("10:02", 130.0)]
    assert alerts(run_rule(DEMO, stream)[0]) == []


def test_state_keeps_only_the_points_the_next_windows_need() -> None:
    _, state = run_rule(DEMO, every_15_s("10:00", [1.0] * 400))
    assert len(state.points) <= DEMO.window_ms // 15_000 + 2


def test_consumption_curve_is_linear_between_points_and_flat_outside() -> None:
    points = [(0, 0.0), (100, 50.0), (300, 50.0)]
    assert [consumption_at(points, t) for t in (-5, 0, 40, 100, 200, 400)] == [
        0.0,
        0.0,
        20.0,
        50.0,
        50.0,
        50.0,
    ]


readings_strategy = st.lists(
    st.tuples(st.integers(1, 200), st.integers(0, 120)), min_size=2, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(
    steps=readings_strategy,
    slide_s=st.sampled_from([5, 10, 15, 30]),
    slides_per_window=st.integers(1, 6),
    threshold_wh=st.integers(10, 400),
)
def test_alerts_equal_a_brute_force_over_every_window(
    steps: list[tuple[int, int]], slide_s: int, slides_per_window: int, threshold_wh: int
) -> None:
    window_s = slide_s * slides_per_window
    rule = WindowThresholdRule(
        window_ms=window_s * 1000, slide_ms=slide_s * 1000, threshold_wh=threshold_wh
    )
    times_s, registers = [1_000_003], [0]
    for gap_s, energy in steps:
        times_s.append(times_s[-1] + gap_s)
        registers.append(registers[-1] + energy)
    points = list(zip(times_s, registers, strict=True))
    stream = [reading(DAY + timedelta(seconds=t), float(r)) for t, r in points]

    def curve(t: int) -> Fraction:  # exact linear interpolation
        for (t0, e0), (t1, e1) in itertools.pairwise(points):
            if t0 <= t <= t1:
                return e0 + Fraction(e1 - e0) * (t - t0) / (t1 - t0)
        raise AssertionError(t)

    base = int(DAY.timestamp())
    first_end = -(-(base + times_s[0] + window_s) // slide_s) * slide_s - base
    expected, inside = [], False
    for end in range(first_end, times_s[-1] + 1, slide_s):
        window_wh = curve(end) - curve(end - window_s)
        assume(abs(window_wh - threshold_wh) > Fraction(1, 10**6))
        if window_wh > threshold_wh and not inside:
            expected.append(((base + end - window_s) * 1000, (base + end) * 1000, float(window_wh)))
        inside = window_wh > threshold_wh
    found = alerts(run_rule(rule, stream)[0])
    event(f"alerts: {min(len(found), 2)}")
    assert [(a.start_ms, a.end_ms) for a in found] == [(s, e) for s, e, _ in expected]
    assert np.allclose([a.value for a in found], [v for _, _, v in expected], rtol=1e-9)
