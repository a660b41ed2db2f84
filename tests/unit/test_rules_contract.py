"""The checks every rule passes, whatever it does (river-style shared suite).

Rules are found by importing every module of ``streaming_app.rules``; a new rule module
is checked without being listed here, in each action it supports (flag and reject). Each
reading is evaluated in the context the engine would give it: the meter's watermark from
the readings before it, and a receipt time (some readings arrive an hour before they are
dated, as from a fast clock). A rule must find something on the faulty stream, so that no
check passes vacuously on a rule that says nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import orjson
import pytest

from smart_meter.reading import Reading
from streaming_app.rules import Action, Context, Rule, rule_types
from streaming_app.rules.base import Interval
from streaming_app.rules.testing import faulty_stream

OUT_OF_ORDERNESS_MS = 60_000
HOUR_MS = 3_600_000
Check = Callable[[Rule[Any]], None]


def contexts(readings: Sequence[Reading]) -> list[Context]:
    """What the engine would pass with each reading: the meter's watermark before it (its
        newest event time so far minus the bound) and when it was received (every 37th reading
        an hour before its own time, as if its meter's clock ran ahead), and the reading against
    the newest before it."""
    found: list[Context] = []
    newest: Reading | None = None
    for index, reading in enumerate(readings):
        watermark = None if newest is None else newest.ts_ms - OUT_OF_ORDERNESS_MS
        received = reading.ts_ms - (HOUR_MS if index % 37 == 36 else 0)
        interval = None
        if newest is not None:
            interval = Interval(newest.ts_ms, newest.import_wh, reading.ts_ms, reading.import_wh)
        found.append(Context(watermark, (), received, interval))
        newest = reading if newest is None or reading.ts_ms > newest.ts_ms else newest
    return found


STREAM = faulty_stream(seed=21, meters=1, intervals=400)
CONTEXTS = contexts(STREAM)


def configurations() -> Iterator[Rule[Any]]:
    """Each rule in every action it supports (flag, reject)."""
    for rule_type in rule_types().values():
        for action in sorted(rule_type.supported_actions):
            yield rule_type(action=action)


def evaluate_all(rule: Rule[Any], state: Any) -> list[Any]:
    return [rule.evaluate(r, state, c) for r, c in zip(STREAM, CONTEXTS, strict=True)]


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


def check_finds_something_on_the_faulty_stream(rule: Rule[Any]) -> None:
    findings = [f for found in evaluate_all(rule, rule.new_state()) for f in found]
    assert findings
    assert {f.action for f in findings if f.failed} <= {rule.action}


def check_does_not_mutate_its_input(rule: Rule[Any]) -> None:
    state = rule.new_state()
    for reading, context in zip(STREAM, CONTEXTS, strict=True):
        before, context_before = reading.model_dump(), copy.deepcopy(context)
        rule.evaluate(reading, state, context)
        assert reading.model_dump() == before
        assert context == context_before


def check_is_deterministic(rule: Rule[Any]) -> None:
    def run() -> tuple[list[Any], Any]:
        state = rule.new_state()
        return evaluate_all(rule, state), rule.dump_state(state)

    assert run() == run()


def check_state_round_trips_and_resumes(rule: Rule[Any]) -> None:
    state = rule.new_state()
    for reading, context in zip(STREAM, CONTEXTS, strict=True):
        data = rule.dump_state(state)
        assert orjson.loads(orjson.dumps(data)) == data
        restored = rule.load_state(data)
        assert rule.dump_state(restored) == data
        expected = rule.evaluate(reading, state, context)
        assert rule.evaluate(reading, restored, context) == expected


def check_findings_carry_the_rule_id(rule: Rule[Any]) -> None:
    renamed = rule.model_copy(update={"id": "renamed"})
    ids = {f.rule_id for found in evaluate_all(renamed, renamed.new_state()) for f in found}
    assert ids == {"renamed"}


def check_rejecting_leaves_its_state_unchanged(rule: Rule[Any]) -> None:
    state, rejected = rule.new_state(), 0
    for reading, context in zip(STREAM, CONTEXTS, strict=True):
        before = copy.deepcopy(rule.dump_state(state))
        found = rule.evaluate(reading, state, context)
        if any(f.action is Action.REJECT for f in found):
            rejected += 1
            assert rule.dump_state(state) == before
    assert rejected or rule.action is Action.FLAG or not rule.supported_actions - {Action.FLAG}


def check_state_stays_bounded(rule: Rule[Any]) -> None:
    state, sizes = rule.new_state(), []
    long_stream = faulty_stream(seed=4, meters=1, intervals=1600)
    for index, (reading, context) in enumerate(
        zip(long_stream, contexts(long_stream), strict=True)
    ):
        rule.evaluate(reading, state, context)
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
    check_finds_something_on_the_faulty_stream,
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
        "future_timestamp",
        "gap",
        "irregular",
        "lateness",
        "register",
        "spike",
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
