"""The checks every rule passes, whatever it does (river-style shared suite).

Rules are found by importing every module of ``streaming_app.rules``; a new rule module
is checked without being listed here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from streaming_app.rules import Action, Context, Rule, rule_types
from streaming_app.rules.testing import faulty_stream

STREAM = faulty_stream(seed=21, meters=1, intervals=400)
Check = Callable[[Rule[Any]], None]


def configurations() -> Iterator[Rule[Any]]:
    """Each rule's defaults, and its reject variant where it has one."""
    for rule_type in rule_types().values():
        yield rule_type()
        if Action.REJECT in rule_type.supported_actions:
            yield rule_type(action=Action.REJECT)


def check_has_a_docstring_an_id_and_described_parameters(rule: Rule[Any]) -> None:
    assert (type(rule).__doc__ or "").strip()
    assert rule.id == type(rule).kind
    undescribed = [n for n, f in type(rule).model_fields.items() if not f.description]
    assert undescribed == []


def check_config_round_trips_through_json(rule: Rule[Any]) -> None:
    assert type(rule).model_validate_json(rule.model_dump_json()) == rule


def check_config_is_frozen(rule: Rule[Any]) -> None:
    with pytest.raises(ValueError, match="frozen"):
        setattr(rule, "id", "other")  # noqa: B010


def check_does_not_mutate_its_input(rule: Rule[Any]) -> None:
    state, context = rule.new_state(), Context(watermark_ms=0)
    for reading in STREAM:
        before = reading.model_dump()
        rule.evaluate(reading, state, context)
        assert reading.model_dump() == before
    assert context == Context(watermark_ms=0)


def check_is_deterministic(rule: Rule[Any]) -> None:
    def run() -> tuple[list[Any], Any]:
        state = rule.new_state()
        findings = [rule.evaluate(r, state, Context()) for r in STREAM]
        return findings, rule.dump_state(state)

    assert run() == run()


def check_state_round_trips_and_resumes(rule: Rule[Any]) -> None:
    state = rule.new_state()
    for reading in STREAM:
        data = rule.dump_state(state)
        assert orjson.loads(orjson.dumps(data)) == data
        restored = rule.load_state(data)
        assert rule.dump_state(restored) == data
        expected = rule.evaluate(reading, state, Context())
        assert rule.evaluate(reading, restored, Context()) == expected


def check_findings_carry_the_rule_id(rule: Rule[Any]) -> None:
    renamed = rule.model_copy(update={"id": "renamed"})
    state = renamed.new_state()
    ids = {f.rule_id for r in STREAM for f in renamed.evaluate(r, state, Context())}
    assert ids <= {"renamed"}


def check_rejecting_leaves_its_state_unchanged(rule: Rule[Any]) -> None:
    state = rule.new_state()
    for reading in STREAM:
        before = copy.deepcopy(rule.dump_state(state))
        found = rule.evaluate(reading, state, Context(watermark_ms=reading.ts_ms + 10**10))
        if any(f.action is Action.REJECT for f in found):
            assert rule.dump_state(state) == before


def check_state_stays_bounded(rule: Rule[Any]) -> None:
    state, sizes = rule.new_state(), []
    long_stream = faulty_stream(seed=4, meters=1, intervals=1600)
    for index, reading in enumerate(long_stream):
        rule.evaluate(reading, state, Context())
        rule.expire(reading.meter_id, state, reading.ts_ms)
        if index in (len(long_stream) // 2, len(long_stream) - 1):
            sizes.append(len(orjson.dumps(rule.dump_state(state))))
    assert sizes[1] <= sizes[0] * 1.5 + 256


def check_timers_are_quiet_on_a_new_meter(rule: Rule[Any]) -> None:
    state = rule.new_state()
    assert rule.deadline_ms(state) is None
    assert rule.expire("M1", state, 10**13) == []


CHECKS: list[Check] = [
    check_has_a_docstring_an_id_and_described_parameters,
    check_config_round_trips_through_json,
    check_config_is_frozen,
    check_does_not_mutate_its_input,
    check_is_deterministic,
    check_state_round_trips_and_resumes,
    check_findings_carry_the_rule_id,
    check_rejecting_leaves_its_state_unchanged,
    check_state_stays_bounded,
    check_timers_are_quiet_on_a_new_meter,
]


def test_every_rule_module_is_discovered() -> None:
    assert sorted(rule_types()) == [
        "duplicate",
        "flatline",
        "gap",
        "irregular",
        "lateness",
        "register",
        "spike",
        "totals",
        "voltage",
        "window_threshold",
    ]


@pytest.mark.parametrize(
    ("rule", "check"),
    [(rule, check) for rule in configurations() for check in CHECKS],
    ids=lambda value: (
        value.__name__.removeprefix("check_") if callable(value) else f"{value.id}-{value.action}"
    ),
)
def test_rule_passes_the_shared_checks(rule: Rule[Any], check: Check) -> None:
    check(rule)
