"""Register rule: decrease, rollover, reset, consumption above the physical limit."""

from __future__ import annotations

from streaming_app.rules import Action, Status
from streaming_app.rules.events import RegisterEvent, RegisterKind
from streaming_app.rules.register import RegisterRule
from streaming_app.rules.testing import ms, reading, run_rule
from streaming_app.validation import prod_settings

HALF_HOUR_MS = 1_800_000


def test_rising_register_within_the_limit_passes() -> None:
    findings, _ = run_rule(RegisterRule(), [reading("10:00", 1000.0), reading("10:30", 1500.0)])
    assert findings == [[], []]


def test_decreasing_register_is_flagged() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 50_000.0))
    verdict = validator.process(reading("10:30", 49_000.0))
    assert verdict.failed_rules == ("register",)
    assert verdict.events == (
        RegisterEvent(
            "M1", ms("10:30"), RegisterKind.DECREASE, 50_000.0, 49_000.0, -1000.0, HALF_HOUR_MS
        ),
    )


def test_plausible_wrap_is_a_rollover_notice_with_the_consumption() -> None:
    rule = RegisterRule(rollover_at_wh=1_000_000.0)
    findings, _ = run_rule(rule, [reading("10:00", 999_900.0), reading("10:30", 100.0)])
    [finding] = findings[1]
    assert not finding.failed
    assert finding.event == RegisterEvent(
        "M1", ms("10:30"), RegisterKind.ROLLOVER, 999_900.0, 100.0, 200.0, HALF_HOUR_MS
    )


def test_fall_to_near_zero_far_from_the_top_is_a_reset() -> None:
    rule = RegisterRule()
    findings, _ = run_rule(rule, [reading("10:00", 5_000_000.0), reading("10:30", 12.0)])
    kinds = [(f.reason, f.event.kind) for f in findings[1] if isinstance(f.event, RegisterEvent)]
    assert kinds == [("reset", RegisterKind.RESET)]


def test_consumption_above_the_connection_limit_is_flagged() -> None:
    rule = RegisterRule(max_kw=10.0)  # 5 kWh in half an hour at most
    stream = [reading("10:00", 0.0), reading("10:30", 5_000.0), reading("11:00", 11_000.0)]
    findings, _ = run_rule(rule, stream)
    assert findings[1] == []
    assert [f.event for f in findings[2]] == [
        RegisterEvent(
            "M1", ms("11:00"), RegisterKind.OVER_LIMIT, 5_000.0, 11_000.0, 6_000.0, HALF_HOUR_MS
        )
    ]


def test_rejected_reading_does_not_become_the_reference() -> None:
    validator = prod_settings(register_check={"action": "reject"}).validator()
    stream = [reading("10:00", 1000.0), reading("10:30", 10.0), reading("11:00", 1400.0)]
    verdicts = [validator.process(item) for item in stream]
    assert [v.status for v in verdicts[1:]] == [Status.REJECTED, Status.FLAGGED]
    assert verdicts[2].failed_rules == ("gap",)  # judged against 10:00, across the hole
    assert validator.rule_state("M1", "register") is not None


def test_rejected_register_reading_is_rejected_by_the_validator() -> None:
    settings = prod_settings(register_check=RegisterRule(action=Action.REJECT))
    validator = settings.validator()
    validator.process(reading("10:00", 10_000.0))
    verdict = validator.process(reading("10:30", 9_000.0))
    assert verdict.status is Status.REJECTED
    assert verdict.reasons == ("decrease",)


def test_late_reading_above_the_newer_register_is_a_decrease() -> None:
    stream = [reading("10:00", 1000.0), reading("11:00", 1200.0), reading("10:30", 1300.0)]
    findings, _ = run_rule(RegisterRule(), stream)
    assert [f.event for f in findings[2]] == [
        RegisterEvent(
            "M1", ms("10:30"), RegisterKind.DECREASE, 1300.0, 1200.0, -100.0, HALF_HOUR_MS
        )
    ]


def test_late_reading_between_its_neighbours_passes() -> None:
    stream = [reading("10:00", 1000.0), reading("11:00", 1200.0), reading("10:30", 1100.0)]
    findings, _ = run_rule(RegisterRule(), stream)
    assert findings[2] == []
