"""Flat line / zero run: N stuck, identical or zero intervals in a row, reported once per run."""

from __future__ import annotations

from streaming_app.rules.base import Finding
from streaming_app.rules.events import FlatLine, FlatLineKind
from streaming_app.rules.flatline import FlatLineRule
from streaming_app.rules.testing import ms, reading, run_rule

CLOCKS = ("10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00")


def reasons(findings: list[list[Finding]]) -> list[list[str]]:
    return [[f.reason for f in found] for found in findings]


def test_zero_run_of_n_intervals_is_reported_once_and_flags_every_reading_in_it() -> None:
    registers = (500.0, 500.0, 500.0, 500.0, 500.0, 620.0, 700.0)
    stream = [reading(c, wh) for c, wh in zip(CLOCKS, registers, strict=True)]
    findings, _ = run_rule(FlatLineRule(min_zero_intervals=3), stream)
    assert reasons(findings) == [[], [], [], ["zero_run"], ["zero_run"], [], []]
    assert findings[3][0].event == FlatLine(
        "M1", FlatLineKind.ZERO, ms("10:00"), ms("11:30"), 3, 0.0
    )
    assert findings[4][0].event is None


def test_register_that_stops_while_current_flows_is_a_stuck_flat_line() -> None:
    stream = [reading(c, 500.0, current_a=(0.0, 3.2, 0.0)) for c in CLOCKS[:5]]
    findings, _ = run_rule(FlatLineRule(min_flat_intervals=4, min_zero_intervals=12), stream)
    assert reasons(findings) == [[], [], [], [], ["flat_line"]]
    assert findings[4][0].event == FlatLine(
        "M1", FlatLineKind.STUCK, ms("10:00"), ms("12:00"), 4, 0.0
    )


def test_no_energy_and_no_current_needs_the_longer_zero_run() -> None:
    stream = [reading(c, 500.0, current_a=(0.0,)) for c in CLOCKS]
    findings, _ = run_rule(FlatLineRule(min_flat_intervals=2, min_zero_intervals=6), stream)
    assert reasons(findings)[-1] == ["zero_run"]
    assert reasons(findings)[:-1] == [[]] * 6


def test_identical_non_zero_intervals_are_a_flat_line() -> None:
    registers = (500.0, 550.0, 600.0, 650.0, 700.0, 790.0, 800.0)
    stream = [reading(c, wh) for c, wh in zip(CLOCKS, registers, strict=True)]
    findings, _ = run_rule(FlatLineRule(min_flat_intervals=4), stream)
    assert reasons(findings) == [[], [], [], [], ["flat_line"], [], []]
    assert findings[4][0].event == FlatLine(
        "M1", FlatLineKind.FLAT, ms("10:00"), ms("12:00"), 4, 50.0
    )


def test_run_must_also_last_the_minimum_duration() -> None:
    stream = [reading(c, 500.0) for c in CLOCKS]
    rule = FlatLineRule(min_zero_intervals=3, min_duration_ms=2 * 3_600_000)
    findings, _ = run_rule(rule, stream)
    assert reasons(findings) == [[], [], [], [], ["zero_run"], ["zero_run"], ["zero_run"]]
    assert findings[4][0].event == FlatLine(
        "M1", FlatLineKind.ZERO, ms("10:00"), ms("12:00"), 4, 0.0
    )


def test_varying_consumption_is_not_flat() -> None:
    registers = (500.0, 560.0, 600.0, 690.0, 700.0, 790.0, 800.0)
    stream = [reading(c, wh) for c, wh in zip(CLOCKS, registers, strict=True)]
    findings, _ = run_rule(FlatLineRule(min_flat_intervals=2), stream)
    assert reasons(findings) == [[]] * 7


def test_tolerance_treats_near_equal_intervals_as_identical() -> None:
    registers = (500.0, 550.0, 600.5, 650.5, 700.0)
    stream = [reading(c, wh) for c, wh in zip(CLOCKS, registers, strict=False)]
    findings, _ = run_rule(FlatLineRule(min_flat_intervals=4, tolerance_wh=1.0), stream)
    assert reasons(findings)[-1] == ["flat_line"]


def test_a_new_run_after_a_break_is_reported_again() -> None:
    registers = (500.0, 500.0, 500.0, 600.0, 600.0, 600.0, 600.0)
    stream = [reading(c, wh) for c, wh in zip(CLOCKS, registers, strict=True)]
    findings, _ = run_rule(FlatLineRule(min_zero_intervals=2), stream)
    events = [f.event for found in findings for f in found if f.event is not None]
    assert events == [
        FlatLine("M1", FlatLineKind.ZERO, ms("10:00"), ms("11:00"), 2, 0.0),
        FlatLine("M1", FlatLineKind.ZERO, ms("11:30"), ms("12:30"), 2, 0.0),
    ]


def test_late_readings_do_not_break_or_extend_a_run() -> None:
    stream = [reading(c, 500.0) for c in CLOCKS[:3]] + [reading("10:15", 400.0)]
    findings, state = run_rule(FlatLineRule(min_zero_intervals=2), stream)
    assert findings[3] == []
    assert state.run_intervals == 2
