"""Lateness rule: ON_TIME, LATE (processed, marked), TOO_LATE (rejected, routed aside)."""

from __future__ import annotations

from streaming_app.rules import Action, Context, Lateness, Status
from streaming_app.rules.events import LateEvent
from streaming_app.rules.lateness import LatenessRule, classify
from streaming_app.rules.testing import ms, reading
from streaming_app.validation import prod_settings

HOUR_MS = 3_600_000


def test_classification_boundaries_against_the_watermark() -> None:
    watermark = ms("12:00")
    assert classify(watermark, watermark, HOUR_MS) is Lateness.ON_TIME
    assert classify(watermark - 1, watermark, HOUR_MS) is Lateness.LATE
    assert classify(watermark - HOUR_MS, watermark, HOUR_MS) is Lateness.LATE
    assert classify(watermark - HOUR_MS - 1, watermark, HOUR_MS) is Lateness.TOO_LATE
    assert classify(0, None, HOUR_MS) is Lateness.ON_TIME


def test_reading_within_the_out_of_orderness_bound_is_on_time() -> None:
    validator = prod_settings().validator()  # watermark 60 s behind the meter's newest event
    validator.process(reading("10:00:30"))
    verdict = validator.process(reading("09:59:30"))
    assert verdict.lateness is Lateness.ON_TIME
    assert not any(isinstance(event, LateEvent) for event in verdict.events)


def test_late_reading_is_processed_and_marked() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00"))
    validator.process(reading("11:00"))
    verdict = validator.process(reading("10:30"))
    assert verdict.lateness is Lateness.LATE
    assert verdict.status is Status.ACCEPTED
    assert verdict.failed_rules == ()
    assert verdict.events[0] == (
        LateEvent("M1", ms("10:30"), ms("10:59"), Lateness.LATE, ms("10:59") - ms("10:30"))
    )


def test_too_late_reading_is_rejected_and_no_later_rule_sees_it() -> None:
    validator = prod_settings().validator()
    validator.process(reading("09:00", 1000.0))
    validator.process(reading("12:00", 1200.0))
    verdict = validator.process(reading("10:30", 1300.0))  # would also be a register decrease
    behind = ms("11:59") - ms("10:30")
    assert verdict.status is Status.REJECTED
    assert verdict.lateness is Lateness.TOO_LATE
    assert verdict.failed_rules == ("lateness",)
    assert verdict.reasons == ("too_late",)
    assert verdict.events == (LateEvent("M1", ms("10:30"), ms("11:59"), Lateness.TOO_LATE, behind),)


def test_too_late_reading_can_be_flagged_instead() -> None:
    rule = LatenessRule(action=Action.FLAG, allowed_lateness_ms=0)
    findings = rule.evaluate(reading("10:00"), rule.new_state(), Context(ms("10:01")))
    assert [(f.reason, f.action) for f in findings] == [("too_late", Action.FLAG)]


def test_another_meters_clock_never_makes_a_reading_late() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00"))
    validator.process(reading("23:30", meter_id="FAST"))  # on the grid, hours ahead
    verdict = validator.process(reading("10:30"))
    assert verdict.lateness is Lateness.ON_TIME
    assert verdict.status is Status.ACCEPTED


def test_a_reading_dated_ahead_of_its_receipt_is_rejected_and_moves_no_watermark() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00"), received_ms=ms("10:00"))
    watermark = validator.watermark_ms
    verdict = validator.process(reading("2099-01-01T00:00:00+00:00"), received_ms=ms("10:31"))
    assert verdict.status is Status.REJECTED
    assert verdict.lateness is Lateness.FUTURE
    assert verdict.reasons == ("future_timestamp",)
    assert validator.watermark_ms == watermark
    later = validator.process(reading("10:30"), received_ms=ms("10:30"))
    assert (later.status, later.lateness) == (Status.ACCEPTED, Lateness.ON_TIME)


def test_the_partition_watermark_follows_event_time_only_up_to_receipt() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:30"), received_ms=ms("10:20"))  # 10 min ahead: within
    assert validator.watermark_ms == ms("10:20") - 60_000
