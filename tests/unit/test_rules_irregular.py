"""Irregular sampling: off-grid timestamps and cadence changes, never reported as gaps."""

from __future__ import annotations

from streaming_app.rules import Status
from streaming_app.rules.events import Irregular, IrregularKind
from streaming_app.rules.irregular import IrregularRule
from streaming_app.rules.testing import ms, reading, run_rule
from streaming_app.validation import prod_settings

MINUTE_MS = 60_000


def test_reading_at_10_46_after_10_00_is_irregular_not_a_gap() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    verdict = validator.process(reading("10:46", 1100.0))
    assert verdict.events == (
        Irregular("M1", ms("10:46"), IrregularKind.OFF_GRID, offset_ms=-14 * MINUTE_MS),
    )
    assert verdict.failed_rules == ("irregular",)
    assert verdict.status is Status.FLAGGED


def test_readings_within_the_clock_tolerance_are_on_grid() -> None:
    findings, _ = run_rule(IrregularRule(), [reading(c) for c in ("10:00:05", "10:29:55")])
    assert findings == [[], []]


def test_early_reading_beyond_the_tolerance_has_a_negative_offset() -> None:
    findings, _ = run_rule(IrregularRule(), [reading("10:29:54")])
    assert [f.event for f in findings[0]] == [
        Irregular("M1", ms("10:29:54"), IrregularKind.OFF_GRID, offset_ms=-6_000)
    ]


def test_meter_switching_to_15_minutes_reports_one_interval_change() -> None:
    clocks = ("10:00", "10:15", "10:30", "10:45", "11:00", "11:15")
    findings, _ = run_rule(IrregularRule(), [reading(c) for c in clocks])
    changes = [f.event for found in findings for f in found if f.reason == "interval_change"]
    assert changes == [
        Irregular("M1", ms("10:45"), IrregularKind.INTERVAL_CHANGE, interval_ms=15 * MINUTE_MS)
    ]


def test_hourly_cadence_on_a_half_hour_grid_is_an_interval_change() -> None:
    clocks = ("10:00", "11:00", "12:00", "13:00", "14:00")
    findings, _ = run_rule(IrregularRule(), [reading(c) for c in clocks])
    assert [[f.event for f in found] for found in findings] == [
        [],
        [],
        [],
        [Irregular("M1", ms("13:00"), IrregularKind.INTERVAL_CHANGE, interval_ms=60 * MINUTE_MS)],
        [],
    ]


def test_return_to_the_configured_cadence_rearms_the_change_report() -> None:
    clocks = ["10:00", "11:00", "12:00", "13:00", "13:30", "14:00", "14:30"]
    clocks += ["15:30", "16:30", "17:30"]
    findings, _ = run_rule(IrregularRule(), [reading(c) for c in clocks])
    reported_at = [
        f.event.ts_ms for found in findings for f in found if isinstance(f.event, Irregular)
    ]
    assert reported_at == [ms("13:00"), ms("17:30")]


def test_late_reading_does_not_count_as_an_interval() -> None:
    clocks = ("10:00", "10:30", "11:00", "10:15")
    findings, state = run_rule(IrregularRule(), [reading(c) for c in clocks])
    assert [f.reason for f in findings[3]] == ["off_grid"]
    assert state.recent_intervals_ms == [30 * MINUTE_MS, 30 * MINUTE_MS]
