"""Duplicate rule: the same (meter, event time) again, identical or conflicting."""

from __future__ import annotations

import os
import subprocess
import sys

from streaming_app.rules import Status
from streaming_app.rules.duplicate import DuplicateRule, fingerprint
from streaming_app.rules.events import DuplicateEvent
from streaming_app.rules.testing import ms, reading, run_rule
from streaming_app.validation import prod_settings


def test_identical_redelivery_is_a_duplicate_that_no_later_rule_sees() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    first = validator.process(reading("11:00", 1200.0))
    again = validator.process(reading("11:00", 1200.0))
    assert first.reasons == ("after_gap",)
    assert again.status is Status.DUPLICATE
    assert again.failed_rules == ()
    assert again.events == (DuplicateEvent("M1", ms("11:00"), identical=True),)


def test_conflicting_payload_for_the_same_key_is_rejected() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    verdict = validator.process(reading("10:00", 1005.0))
    assert verdict.status is Status.REJECTED
    assert verdict.failed_rules == ("duplicate",)
    assert verdict.reasons == ("conflicting_duplicate",)
    assert verdict.events == (DuplicateEvent("M1", ms("10:00"), identical=False),)


def test_conflict_keeps_the_first_payload_as_the_reference() -> None:
    rule = DuplicateRule()
    stream = [reading("10:00", 1000.0), reading("10:00", 1005.0), reading("10:00", 1000.0)]
    findings, _ = run_rule(rule, stream)
    assert [[f.reason for f in found] for found in findings] == [
        [],
        ["conflicting_duplicate"],
        ["identical_duplicate"],
    ]


def test_recent_keys_are_bounded_per_meter() -> None:
    rule = DuplicateRule(recent_keys=2)
    stream = [reading(c) for c in ("10:00", "10:30", "11:00")] + [reading("10:00")]
    findings, state = run_rule(rule, stream)
    assert findings[3] == []  # forgotten: left to the idempotent storage key
    assert list(state.recent) == [ms("11:00"), ms("10:00")]


def test_other_meters_do_not_collide() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", meter_id="M1"))
    assert validator.process(reading("10:00", meter_id="M2")).status is Status.ACCEPTED


def test_fingerprint_is_stable_across_processes() -> None:
    code = (
        "from streaming_app.rules.duplicate import fingerprint;"
        "from streaming_app.rules.testing import reading;"
        "print(fingerprint(reading('10:00', 1234.5, seq=7)))"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {fingerprint(reading("10:00", 1234.5, seq=7))} == {"539b5c237b26d717"}
