"""Gap rule: missing intervals by later reading, by event-time timer, merged, fillable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streaming_app.rules import Action, Status
from streaming_app.rules.events import Gap, GapClosed, GapSource, LateEvent, Lateness
from streaming_app.rules.gap import GapRule
from streaming_app.rules.testing import ms, reading, run_rule
from streaming_app.validation import prod_settings

# prod preset: 30-minute grid, grace 15 min, watermark 60 s behind the newest event


def test_readings_at_10_00_and_11_30_on_a_30_minute_grid_give_one_gap_of_two_missing() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    verdict = validator.process(reading("11:30", 1300.0))
    assert verdict.events == (Gap("M1", ms("10:30"), ms("11:30"), 2, False, GapSource.READING),)
    assert verdict.failed_rules == ("gap",)
    assert verdict.reasons == ("after_gap",)
    assert verdict.status is Status.FLAGGED


def test_reading_at_10_46_after_10_00_is_not_a_gap() -> None:
    findings, _ = run_rule(GapRule(), [reading("10:00"), reading("10:46")])
    assert findings == [[], []]


def test_early_reading_whose_own_slot_is_covered_covers_the_next_one() -> None:
    stream = [reading("10:00"), reading("10:18"), reading("11:00")]
    findings, state = run_rule(GapRule(), stream)
    assert findings == [[], [], []]
    assert state.gaps == []


def test_early_reading_counts_once_a_later_gap_still_shows() -> None:
    stream = [reading("10:00"), reading("10:18"), reading("11:30")]
    findings, _ = run_rule(GapRule(), stream)
    assert [f.event for f in findings[2]] == [
        Gap("M1", ms("11:00"), ms("11:30"), 1, False, GapSource.READING)
    ]


def test_late_early_reading_fills_the_gap_of_the_slot_it_is_nearest_to() -> None:
    stream = [reading("10:00"), reading("11:30"), reading("10:18")]  # 10:30, 12 min early
    findings, state = run_rule(GapRule(), stream)
    assert [f.event for f in findings[2]] == [
        GapClosed("M1", ms("10:30"), ms("11:30"), 2, ms("10:18")),
        Gap("M1", ms("11:00"), ms("11:30"), 1, False, GapSource.FILL),
    ]
    assert len(state.gaps) == 1


def test_consecutive_readings_on_the_grid_give_no_gap() -> None:
    findings, _ = run_rule(GapRule(), [reading(t) for t in ("10:00", "10:30", "11:00")])
    assert findings == [[], [], []]


def test_reading_a_few_seconds_early_counts_for_its_slot() -> None:
    findings, _ = run_rule(GapRule(), [reading("10:00"), reading("10:30"), reading("10:59:58")])
    assert findings == [[], [], []]


def test_meter_silent_after_10_00_raises_a_gap_once_the_watermark_passes_10_45() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00"))
    assert validator.expire(ms("10:45") - 1) == []
    assert validator.expire(ms("10:45")) == [
        Gap("M1", ms("10:30"), ms("11:00"), 1, True, GapSource.TIMER)
    ]
    assert validator.expire(ms("13:00")) == []  # once per gap, not once per watermark step


def test_watermark_moved_by_other_meters_fires_the_silent_meters_gap() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", meter_id="QUIET"))
    for clock in ("10:00", "10:30"):
        validator.process(reading(clock, meter_id="BUSY"))
    assert validator.expire() == []
    validator.process(reading("11:00", meter_id="BUSY"))  # watermark 10:59, past 10:45
    assert validator.expire() == [Gap("QUIET", ms("10:30"), ms("11:00"), 1, True, GapSource.TIMER)]


def test_silent_meter_that_returns_gets_one_final_gap_with_the_same_start() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    validator.expire(ms("10:45"))
    verdict = validator.process(reading("12:30", 1500.0))
    assert verdict.events == (Gap("M1", ms("10:30"), ms("12:30"), 4, False, GapSource.TIMER),)


def test_late_reading_that_fills_a_gap_closes_it() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    validator.process(reading("11:00", 1200.0))
    verdict = validator.process(reading("10:30", 1100.0))
    behind_ms = ms("10:59") - ms("10:30")
    assert verdict.events == (
        LateEvent("M1", ms("10:30"), ms("10:59"), Lateness.LATE, behind_ms),
        GapClosed("M1", ms("10:30"), ms("11:00"), 1, ms("10:30")),
    )
    assert verdict.status is Status.ACCEPTED
    assert verdict.lateness is Lateness.LATE


def test_a_reading_that_fills_a_gap_raised_by_the_timer_closes_it() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    validator.expire(ms("10:50"))
    verdict = validator.process(reading("10:30", 1100.0))
    assert verdict.events == (GapClosed("M1", ms("10:30"), ms("11:00"), 1, ms("10:30")),)
    assert verdict.failed_rules == ()


def test_late_reading_inside_a_gap_splits_it() -> None:
    rule = GapRule()
    findings, _ = run_rule(rule, [reading("10:00"), reading("12:30"), reading("11:00")])
    assert [f.event for f in findings[2]] == [
        GapClosed("M1", ms("10:30"), ms("12:30"), 4, ms("11:00")),
        Gap("M1", ms("10:30"), ms("11:00"), 1, False, GapSource.FILL),
        Gap("M1", ms("11:30"), ms("12:30"), 2, False, GapSource.FILL),
    ]


def test_late_reading_at_the_edge_of_a_gap_shrinks_it() -> None:
    rule = GapRule()
    stream = [reading("10:00"), reading("12:30"), reading("10:30"), reading("12:00")]
    findings, state = run_rule(rule, stream)
    assert [f.event for f in findings[2]] == [
        GapClosed("M1", ms("10:30"), ms("12:30"), 4, ms("10:30")),
        Gap("M1", ms("11:00"), ms("12:30"), 3, False, GapSource.FILL),
    ]
    assert [f.event for f in findings[3]] == [
        GapClosed("M1", ms("11:00"), ms("12:30"), 3, ms("12:00")),
        Gap("M1", ms("11:00"), ms("12:00"), 2, False, GapSource.FILL),
    ]
    slot = rule.interval_ms
    assert state.gaps == [(ms("11:00") // slot, ms("11:30") // slot)]


def test_late_reading_where_no_gap_is_known_says_nothing() -> None:
    findings, _ = run_rule(GapRule(), [reading("10:00"), reading("10:30"), reading("10:00:01")])
    assert findings[2] == []


def test_gaps_remembered_for_filling_are_bounded() -> None:
    rule = GapRule(max_known_gaps=2)
    clocks = ("01:00", "02:00", "03:00", "04:00", "05:00")
    _, state = run_rule(rule, [reading(c) for c in clocks])
    slot = rule.interval_ms
    assert state.gaps == [(ms("03:30") // slot,) * 2, (ms("04:30") // slot,) * 2]


def test_timer_deadline_is_the_next_slot_plus_grace() -> None:
    rule = GapRule(interval_s=900, grace_ms=60_000)
    _, state = run_rule(rule, [reading("10:07")])
    assert rule.deadline_ms(state) == ms("10:16")
    assert rule.expire("M1", state, ms("10:16")) != []
    assert rule.deadline_ms(state) is None


def test_gap_rule_cannot_reject_readings() -> None:
    with pytest.raises(ValidationError, match="supports"):
        GapRule(action=Action.REJECT)
