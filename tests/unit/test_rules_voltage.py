"""Voltage rule: EN 50160 band 207-253 V; transient vs sustained; one event per episode."""

from __future__ import annotations

from streaming_app.rules.events import VoltageDirection, VoltageDuration, VoltageEvent
from streaming_app.rules.testing import ms, reading, run_rule
from streaming_app.rules.voltage import VoltageRule

HOUR_MS = 3_600_000


def test_band_is_207_to_253_volts_inclusive() -> None:
    rule = VoltageRule()
    assert (rule.low_v, rule.high_v) == (207.0, 253.0)
    volts = [(207.0,), (253.0,), (206.9,), (253.1,)]
    stream = [reading(f"1{i}:00", voltage_v=v) for i, v in enumerate(volts)]
    findings, _ = run_rule(rule, stream)
    assert [[f.reason for f in found if f.failed] for found in findings] == [
        [],
        [],
        ["under_voltage"],
        ["over_voltage"],
    ]


def test_single_dip_is_one_transient_episode_reported_when_it_ends() -> None:
    stream = [reading("10:00", voltage_v=(200.0,)), reading("10:30", voltage_v=(231.0,))]
    findings, _ = run_rule(VoltageRule(), stream)
    assert [f.reason for f in findings[0]] == ["under_voltage"]
    assert [f.event for f in findings[1]] == [
        VoltageEvent(
            "M1",
            ms("10:00"),
            ms("10:00"),
            200.0,
            200.0,
            VoltageDirection.UNDER,
            VoltageDuration.TRANSIENT,
            1,
            False,
        )
    ]


def test_sustained_episode_is_announced_once_and_closed_once_under_one_key() -> None:
    volts = (200.0, 198.0, 205.0, 204.0, 230.0)
    clocks = ("10:00", "10:30", "11:00", "11:30", "12:00")
    stream = [reading(c, voltage_v=(v,)) for c, v in zip(clocks, volts, strict=True)]
    findings, _ = run_rule(VoltageRule(sustained_ms=HOUR_MS), stream)
    events = [f.event for found in findings for f in found if isinstance(f.event, VoltageEvent)]
    assert events == [
        VoltageEvent(
            "M1",
            ms("10:00"),
            ms("11:00"),
            198.0,
            205.0,
            VoltageDirection.UNDER,
            VoltageDuration.SUSTAINED,
            3,
            True,
        ),
        VoltageEvent(
            "M1",
            ms("10:00"),
            ms("11:30"),
            198.0,
            205.0,
            VoltageDirection.UNDER,
            VoltageDuration.SUSTAINED,
            4,
            False,
        ),
    ]
    assert {(e.meter_id, e.start_ms) for e in events} == {("M1", ms("10:00"))}


def test_any_phase_out_of_band_counts_and_both_directions_are_said() -> None:
    stream = [
        reading("10:00", voltage_v=(230.0, 260.0, 231.0)),
        reading("10:30", voltage_v=(200.0, 230.0, 230.0)),
        reading("11:00", voltage_v=(230.0, 230.0, 230.0)),
    ]
    findings, _ = run_rule(VoltageRule(sustained_ms=2 * HOUR_MS), stream)
    assert [f.event for f in findings[2]] == [
        VoltageEvent(
            "M1",
            ms("10:00"),
            ms("10:30"),
            200.0,
            260.0,
            VoltageDirection.BOTH,
            VoltageDuration.TRANSIENT,
            2,
            False,
        )
    ]


def test_reading_without_voltage_neither_starts_nor_ends_an_episode() -> None:
    stream = [
        reading("10:00", voltage_v=(200.0,)),
        reading("10:30", voltage_v=None),
        reading("11:00", voltage_v=(230.0,)),
    ]
    findings, _ = run_rule(VoltageRule(), stream)
    assert findings[1] == []
    assert [f.event.readings for f in findings[2] if isinstance(f.event, VoltageEvent)] == [1]


def test_late_out_of_band_reading_is_flagged_but_not_part_of_an_episode() -> None:
    stream = [reading("10:00", voltage_v=(230.0,)), reading("09:30", voltage_v=(190.0,))]
    findings, state = run_rule(VoltageRule(), stream)
    assert [(f.reason, f.event) for f in findings[1]] == [("under_voltage", None)]
    assert state.readings == 0
