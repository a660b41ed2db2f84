"""A labelled decrease or spike is one the rules can see: the injector sizes it to their limits."""

from __future__ import annotations

import statistics
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inject.faults import DetectionLimits, FaultConfig, FaultKind, FaultRecord
from inject.faults.detectable import (
    MS_PER_HOUR,
    SeenIntervals,
    can_decrease,
    decrease_drop_wh,
    spike_baseline_w,
    spike_energy_wh,
)
from smart_meter.codec import ReadingError, decode_message
from streaming_app.rules.events import Event, RegisterEvent, RegisterKind, Spike
from streaming_app.rules.spike import SpikeRule, reference
from streaming_app.rules.testing import at, reading, run_rule
from streaming_app.validation import ValidationSettings, prod_settings
from tests.unit.test_faults import Run, simulate

DEMO_LIKE = DetectionLimits(spike_min_history=10, spike_history_size=60)
LIMITS = [DetectionLimits(), DEMO_LIKE, DetectionLimits(spike_recent_intervals=0)]


def events_of(run: Run, settings: ValidationSettings) -> list[Event]:
    """Every event the validator finds in what the injector sent."""
    validator = settings.validator()
    events: list[Event] = []
    for payload in run.payloads:
        try:
            readings = decode_message(payload).readings
        except ReadingError:
            continue
        for one in readings:
            events += validator.process(one).events
    return events


def key(record: FaultRecord) -> tuple[str, int]:
    return record.meter_id, int(record.start.timestamp() * 1000)


@given(
    st.floats(0.0, 2e5),
    st.tuples(st.floats(0.0, 6e3), st.floats(0.0, 6e3)).map(sorted),
    st.floats(0.0, 5e3),
    st.integers(0, 2**32),
)
def test_a_decrease_lands_at_or_above_the_reset_level_and_is_a_real_fall(
    shown_before_wh: float, bounds: list[float], reset_below_wh: float, seed: int
) -> None:
    limits, (low, high) = DetectionLimits(reset_below_wh=reset_below_wh), bounds
    if not can_decrease(shown_before_wh, (low, high), limits):
        assert shown_before_wh - max(low, 0.1) < reset_below_wh
        return
    drop_wh = decrease_drop_wh(shown_before_wh, (low, high), limits, np.random.default_rng(seed))
    assert 0.1 <= drop_wh <= max(high, 0.1)
    assert shown_before_wh - drop_wh >= reset_below_wh - 1e-9


@given(
    st.lists(st.floats(0.0, 5e4), min_size=1, max_size=60),
    st.sampled_from(LIMITS),
    st.floats(1.1, 4.0),
    st.sampled_from([60_000, 900_000, 1_800_000]),
)
def test_a_spike_clears_the_rule_s_ratio_and_minimum_power(
    history_w: list[float], limits: DetectionLimits, margin: float, duration_ms: int
) -> None:
    power_w = margin * limits.spike_ratio * spike_baseline_w(history_w, limits, recent=6)
    seen_w = spike_energy_wh(power_w, duration_ms) * MS_PER_HOUR / duration_ms
    rule_level = reference(history_w, limits.spike_statistic, limits.spike_recent_intervals)
    assert seen_w >= power_w
    assert seen_w > limits.spike_ratio * rule_level
    assert seen_w > limits.spike_min_power_w
    assert seen_w > limits.spike_ratio * statistics.median(history_w[-6:])


@given(
    st.lists(st.tuples(st.integers(-30, 90), st.floats(-500.0, 2000.0)), max_size=40),
    st.integers(1, 8),
)
def test_seen_intervals_keep_what_the_spike_rule_keeps(
    steps: list[tuple[int, float]], history_size: int
) -> None:
    seen, clock, register_wh = SeenIntervals(), at("00:00"), 1000.0
    stream = []
    for minutes, energy_wh in steps:  # back in time and down, too: late readings, resets
        clock, register_wh = clock + timedelta(minutes=minutes), max(register_wh + energy_wh, 0)
        stream.append(reading(clock, register_wh))
        seen.see(stream[-1].ts_ms, register_wh, history_size)
    _, state = run_rule(SpikeRule(history_size=history_size, min_power_w=1e12), stream)
    assert seen.history_w == state.history_w  # the reference reading is the engine's


@pytest.mark.parametrize("interval_s", [60, 1800])
def test_every_decrease_is_a_decrease_to_the_register_rule(interval_s: int) -> None:
    rates = {FaultKind.RESET: 0.2, FaultKind.REGISTER_DECREASE: 0.2, FaultKind.ROLLOVER: 0.5}
    run = simulate(FaultConfig(rates=rates), meters=40, intervals=80, interval_s=interval_s)
    events = events_of(run, prod_settings())
    found = {(e.meter_id, e.ts_ms): e.kind for e in events if isinstance(e, RegisterEvent)}
    records = run.of(FaultKind.REGISTER_DECREASE)
    assert [found.get(key(r)) for r in records] == [RegisterKind.DECREASE] * len(records)


@pytest.mark.parametrize(
    ("limits", "rule", "interval_s"),
    [
        (DetectionLimits(), SpikeRule(), 1800),
        (DEMO_LIKE, SpikeRule(min_history=10, history_size=60), 60),
    ],
)
def test_every_spike_is_a_spike_to_the_rule_it_was_sized_for(
    limits: DetectionLimits, rule: SpikeRule, interval_s: int
) -> None:
    run = simulate(
        FaultConfig.profile("all", limits), meters=80, intervals=100, interval_s=interval_s
    )
    events = events_of(run, prod_settings(spike=rule))
    found = {(e.meter_id, e.ts_ms) for e in events if isinstance(e, Spike)}
    records = run.of(FaultKind.SPIKE)
    assert [key(r) in found for r in records] == [True] * len(records)
