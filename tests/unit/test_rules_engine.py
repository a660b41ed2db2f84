"""The validator: verdicts, halting, watermark and timers, TTL, state and crash-resume."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from streaming_app.rules import Action, Lateness, Quality, Status, Validator, Verdict
from streaming_app.rules.engine import TimerQueue
from streaming_app.rules.events import Event, Gap, GapSource, LateEvent, event_record
from streaming_app.rules.gap import GapRule
from streaming_app.rules.state import (
    MIGRATIONS,
    REFERENCE_FIELDS,
    MeterState,
    StateVersionError,
)
from streaming_app.rules.testing import faulty_stream, ms, reading
from streaming_app.validation import demo_settings, prod_settings

DAY_MS = 86_400_000


def run(validator: Validator, stream: list[Any]) -> list[Verdict | list[Event]]:
    """Each reading's verdict, then the timer events the watermark fires after it."""
    out: list[Verdict | list[Event]] = []
    for item in stream:
        out.append(validator.process(item))
        out.append(validator.expire())
    return out


def test_verdict_of_a_clean_reading() -> None:
    verdict = prod_settings().validator().process(reading("10:00"))
    [day_so_far] = verdict.figures  # a meter's first reading opens its day's running row
    assert (day_so_far.meter_id, day_so_far.energy_mwh, day_so_far.final) == ("M1", 0, False)
    assert verdict == Verdict(
        "M1", ms("10:00"), Status.ACCEPTED, Lateness.ON_TIME, (), figures=(day_so_far,)
    )
    assert verdict.quality is Quality.ACTUAL
    assert (verdict.failed_rules, verdict.reasons, verdict.events) == ((), (), ())


def test_verdict_lists_every_failed_rule_once_in_rule_order() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 10_000.0))
    verdict = validator.process(reading("11:16", 9_000.0, voltage_v=(190.0,)))
    assert verdict.failed_rules == ("register", "gap", "irregular", "voltage")
    assert verdict.reasons == ("decrease", "after_gap", "off_grid", "under_voltage")
    assert verdict.status is Status.FLAGGED


def test_rejection_stops_the_rules_after_it() -> None:
    settings = prod_settings(spike={"action": Action.REJECT, "min_history": 1})
    validator = settings.validator()
    for clock, wh in (("10:00", 0.0), ("10:30", 100.0), ("11:00", 200.0)):
        validator.process(reading(clock, wh))
    verdict = validator.process(reading("12:00", 50_000.0, voltage_v=(190.0,)))
    assert verdict.status is Status.REJECTED
    assert verdict.failed_rules == ("spike",)  # gap and voltage never saw it
    followup = validator.process(reading("12:30", 400.0))
    assert [type(e) for e in followup.events] == [Gap]  # the rejected reading left a hole


def test_redelivered_rejected_reading_is_rejected_again_not_a_duplicate() -> None:
    settings = prod_settings(spike={"action": Action.REJECT, "min_history": 1})
    validator = settings.validator()
    for clock, wh in (("10:00", 0.0), ("10:30", 100.0), ("11:00", 200.0)):
        validator.process(reading(clock, wh))
    first = validator.process(reading("11:30", 50_000.0))
    again = validator.process(reading("11:30", 50_000.0))
    assert (first.status, again.status) == (Status.REJECTED, Status.REJECTED)
    assert first.findings == again.findings


def test_rule_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Validator([GapRule(), GapRule()], out_of_orderness_ms=0, meter_ttl_ms=DAY_MS)


def test_two_instances_of_a_rule_run_under_their_own_ids() -> None:
    rules = [GapRule(), GapRule(id="gap_hourly", interval_s=3600)]
    validator = Validator(rules, out_of_orderness_ms=0, meter_ttl_ms=DAY_MS)
    validator.process(reading("10:00"))
    assert validator.process(reading("11:00")).failed_rules == ("gap",)
    assert validator.process(reading("13:00")).failed_rules == ("gap", "gap_hourly")


def test_watermark_trails_the_newest_event_and_never_goes_back() -> None:
    validator = prod_settings().validator()
    assert validator.watermark_ms is None
    validator.process(reading("10:00"))
    assert validator.watermark_ms == ms("09:59")
    validator.process(reading("09:00", meter_id="M2"))
    assert validator.watermark_ms == ms("09:59")
    validator.expire(ms("10:30"))
    assert validator.watermark_ms == ms("10:30")


def test_a_reading_off_its_grid_does_not_move_the_watermark() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00"))
    skewed = validator.process(reading("10:38", meter_id="M2"))  # a clock 8 min fast
    assert skewed.reasons == ("off_grid",)
    assert validator.watermark_ms == ms("09:59")
    on_time = validator.process(reading("10:00", meter_id="M3"))
    assert (on_time.status, on_time.lateness) == (Status.ACCEPTED, Lateness.ON_TIME)
    validator.process(reading("10:30", meter_id="M3"))
    assert validator.watermark_ms == ms("10:29")


def test_idle_meters_are_evicted_with_their_timers() -> None:
    validator = prod_settings(meter_ttl_ms=DAY_MS).validator()
    validator.process(reading("10:00", meter_id="OLD"))
    validator.process(reading("2024-01-16T09:00:00+00:00", meter_id="NEW"))
    assert validator.evict_idle(ms("10:00") + DAY_MS) == []
    assert validator.evict_idle(ms("10:00") + DAY_MS + 1) == ["OLD"]
    assert len(validator) == 1
    assert all(e.meter_id == "NEW" for e in validator.expire(ms("10:00") + 3 * DAY_MS))


def test_timer_queue_stays_bounded_under_many_reschedules() -> None:
    timers = TimerQueue()
    for step in range(10_000):
        timers.set(f"M{step % 10}", step)
    assert len(timers) == 10
    assert len(timers._heap) <= 2 * 10 + 64
    assert timers.pop_due(9_994) == ["M0", "M1", "M2", "M3", "M4"]


def test_meter_state_round_trips_through_bytes() -> None:
    validator = prod_settings().validator()
    for item in faulty_stream(meters=1, intervals=80):
        validator.process(item)
    data = validator.meter_state("M1")
    assert data is not None
    parts = (*validator.rules, *validator.aggregators)
    assert MeterState.from_bytes(data, parts).to_bytes(parts) == data
    assert orjson.loads(data)["v"] == 2


def test_state_of_an_older_version_is_migrated(monkeypatch: pytest.MonkeyPatch) -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    current = orjson.loads(validator.meter_state("M1") or b"")
    old = {**as_version_1(current), "v": 0, "last_seen": current["last_event_ms"]}
    del old["last_event_ms"]

    def rename_last_seen(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["last_event_ms"] = data.pop("last_seen")
        return data

    parts = (*validator.rules, *validator.aggregators)
    with pytest.raises(StateVersionError):
        MeterState.from_bytes(orjson.dumps(old), parts)
    monkeypatch.setitem(MIGRATIONS, 0, rename_last_seen)
    migrated = MeterState.from_bytes(orjson.dumps(old), parts)
    assert migrated.to_bytes(parts) == validator.meter_state("M1")


def test_state_from_a_newer_version_is_refused_with_the_versions() -> None:
    with pytest.raises(StateVersionError) as caught:
        MeterState.from_bytes(b'{"v": 9, "meter_id": "M1"}', prod_settings().rules())
    assert (caught.value.found, caught.value.supported) == (9, 2)


def test_a_rule_added_to_the_configuration_starts_empty_for_stored_meters() -> None:
    before = Validator([GapRule()], out_of_orderness_ms=0, meter_ttl_ms=DAY_MS)
    before.process(reading("10:00"))
    after = prod_settings().validator()
    after.load_meter_state(before.meter_state("M1") or b"")
    assert after.process(reading("11:00")).reasons == ("after_gap",)


def test_processing_is_deterministic() -> None:
    stream = faulty_stream(seed=3)
    assert run(prod_settings().validator(), stream) == run(prod_settings().validator(), stream)


def test_resumed_from_per_meter_states_gives_the_same_verdicts() -> None:
    stream = faulty_stream(seed=5, meters=4, intervals=300)
    uninterrupted = run(prod_settings().validator(), stream)
    half = len(stream) // 3
    first = prod_settings().validator()
    before = run(first, stream[:half])
    saved = [first.meter_state(f"M{i}") for i in range(1, 5)]
    resumed = prod_settings().validator()
    for data in saved:
        resumed.load_meter_state(data or b"")
    assert resumed.expire(first.watermark_ms) == []  # timers already fired before the crash
    assert before + run(resumed, stream[half:]) == uninterrupted


def test_a_version_1_meter_state_migrates_to_progress_and_one_reference_reading() -> None:
    validator = prod_settings().validator()
    first = prod_settings().validator()
    first.process(reading("10:00", 100.0))
    saved = orjson.loads(first.meter_state("M1") or b"")
    validator.load_meter_state(orjson.dumps(as_version_1(saved)))
    assert orjson.loads(validator.meter_state("M1") or b"") == saved


def test_a_meter_state_of_a_newer_version_is_refused() -> None:
    with pytest.raises(StateVersionError):
        prod_settings().validator().load_meter_state(b'{"v": 99, "meter_id": "M1"}')


def test_settings_are_frozen_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_METER_VALIDATION_GAP__GRACE_MS", "600000")
    monkeypatch.setenv("SMART_METER_VALIDATION_OUT_OF_ORDERNESS_MS", "1000")
    settings = prod_settings()
    assert (settings.gap.grace_ms, settings.out_of_orderness_ms) == (600_000, 1000)
    with pytest.raises(ValidationError):
        settings.out_of_orderness_ms = 5  # type: ignore[misc]


def test_demo_preset_is_for_minute_meters() -> None:
    demo = demo_settings()
    assert demo.preset == "demo"
    assert (demo.gap.interval_s, demo.irregular.interval_s) == (60, 60)
    assert demo.lateness.allowed_lateness_ms == 600_000
    assert prod_settings().lateness.allowed_lateness_ms == 3_600_000


def test_events_flatten_to_json_ready_records_for_sinks() -> None:
    gap = Gap("M1", ms("10:30"), ms("11:30"), 2, False, GapSource.READING)
    assert event_record(gap) == {
        "type": "Gap",
        "meter_id": "M1",
        "start_ms": ms("10:30"),
        "end_ms": ms("11:30"),
        "missing_intervals": 2,
        "open": False,
        "detected_by": "reading",
    }
    late = LateEvent("M1", 1, 2, Lateness.TOO_LATE, 1)
    assert orjson.loads(orjson.dumps(event_record(late)))["lateness"] == "TOO_LATE"


def as_version_1(state: dict[str, Any]) -> dict[str, Any]:
    """A version-2 meter state as version 1 stored it: no progress, and the reference
    reading kept by each rule that used it."""
    (ts_ms, wh), rules = state["reference"], dict(state["rules"])
    for rule_id, fields in REFERENCE_FIELDS.items():
        values = {"last_ts_ms": ts_ms, "last_wh": wh}
        rules[rule_id] = {**rules[rule_id], **{name: values[name] for name in fields}}
    old = {k: v for k, v in state.items() if k not in ("progress_ms", "reference")}
    return {**old, "v": 1, "rules": rules}
