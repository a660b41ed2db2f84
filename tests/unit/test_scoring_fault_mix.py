"""The injector's full fault mix on 1,000 meters, validated and scored against its ground truth.

Everything the injector sends (``all`` profile: every fault kind, often) goes through
``decode_message`` (undecodable messages become dead letters) and one validator with
the prod preset (timers expired after every interval and once at the end), and the
findings are scored per fault kind by :func:`demo.scoring.score`. Every kind
measured 1.000 precision and recall (seed 7); the floor is a little below that.
Deterministic: a change of score means a change of behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import orjson
import pytest
from rich.console import Console

from demo.detections import malformed_kind
from demo.run import detection_limits
from demo.scoring import ScoreReport, score
from inject.faults import DetectionLimits, FaultConfig, FaultInjector, FaultKind, FaultRecord
from inject.faults.malformed import MAKERS
from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import ReadingError, ReadingErrorKind, decode_message, encode_reading
from smart_meter.subjects import readings_subject
from streaming_app.processed import DeadLetter
from streaming_app.rules.events import (
    Event,
    Gap,
    GapClosed,
    GapSource,
    Irregular,
    IrregularKind,
    RegisterEvent,
    RegisterKind,
    Spike,
)
from streaming_app.rules.testing import at, ms, reading
from streaming_app.validation import ValidationSettings, prod_settings

START = datetime(2024, 3, 1, tzinfo=UTC)
METERS, INTERVALS, INTERVAL_S, SEED = 1_000, 96, 1_800, 7
SUBJECT = readings_subject(0)  # dead letters are matched by their bytes, not subject
NOT_JSON = ReadingErrorKind.NOT_JSON
# Every kind measured 1.000 precision and recall. Before issue 9 part 5 two did not:
# register_decrease recall 0.891 (decreases drawn below the register rule's reset level,
# which it rightly calls resets: the injector now keeps a decrease at or above it) and
# spike recall 0.940 (spikes before the rule had min_history intervals with energy, or
# sized against the injector's typical energy, not the rule's median power: the injector
# now follows the rule's history) and precision 0.981 (a night-only history made the
# morning's rise look like spikes: the rule now also compares with the latest level).
# out_of_order precision was 0.025 while readings off the grid moved the watermark (their
# clocks are suspect now and do not move it, see test_rules_engine).
FLOOR = 0.99


@dataclass(frozen=True)
class InjectedRun:
    """What the injector sent, interval by interval, and its ground truth."""

    records: list[FaultRecord]
    batches: list[list[bytes]]  # the messages of each interval, in sending order
    transformer_of: dict[str, str]
    last: datetime  # event time of the last interval


def inject_run() -> InjectedRun:
    fleet_config = FleetConfig(meters=METERS, interval_s=INTERVAL_S, seed=SEED)
    records: list[FaultRecord] = []
    injector = FaultInjector(FaultConfig.profile("all"), INTERVAL_S, SEED, on_fault=records.append)
    batches, transformer_of, last = [], {}, START
    for when, readings in Fleet(fleet_config, START).run(INTERVALS):
        transformer_of.update({r.meter_id: r.grid.transformer_id or "" for r in readings if r.grid})
        emission = injector.inject(when, readings)
        batches.append([encode_reading(r) for r in emission.readings])
        batches[-1] += [message.payload for message in emission.raw]
        last = when
    drained = injector.drain()
    batches.append([encode_reading(r) for r in drained.readings])
    batches[-1] += [message.payload for message in drained.raw]
    return InjectedRun(records, batches, transformer_of, last)


def validate(
    run: InjectedRun, settings: ValidationSettings
) -> tuple[list[Event], list[DeadLetter]]:
    """Decode and validate every message; the events (with timers) and the dead letters."""
    validator = settings.validator()
    events: list[Event] = []
    dead_letters: list[DeadLetter] = []
    for batch in run.batches:
        for payload in batch:
            try:
                decoded = decode_message(payload)
            except ReadingError as error:
                dead_letters.append(
                    DeadLetter(payload, error.reason, error.field, SUBJECT, kind=error.kind)
                )
                continue
            for item in decoded.readings:
                events += validator.process(item).events
        events += validator.expire()
    # The stream ends when the next interval's readings are due, before its grace is over.
    end_ms = int(run.last.timestamp() * 1000) + INTERVAL_S * 1000 + settings.gap.grace_ms - 1
    events += validator.expire(end_ms)
    return events, dead_letters


def scored(run: InjectedRun, settings: ValidationSettings) -> ScoreReport:
    events, dead_letters = validate(run, settings)
    return score(
        run.records,
        events,
        dead_letters,
        INTERVAL_S,
        run=(START, run.last),
        transformer_of=run.transformer_of,
    )


@pytest.fixture(scope="module")
def run() -> InjectedRun:
    return inject_run()


@pytest.fixture(scope="module")
def report(run: InjectedRun) -> ScoreReport:
    return scored(run, prod_settings())


def test_the_run_holds_every_fault_kind_on_a_fleet_of_a_thousand_meters(
    run: InjectedRun, report: ScoreReport
) -> None:
    assert len(run.transformer_of) == METERS
    assert all(report[kind].truth >= 150 for kind in FaultKind), report.to_dict()


@pytest.mark.parametrize("kind", list(FaultKind))
def test_recall_of_each_fault_kind_stays_above_its_floor(
    kind: FaultKind, report: ScoreReport
) -> None:
    row = report[kind]
    assert row.recall is not None
    assert row.recall >= FLOOR, row.to_dict()


@pytest.mark.parametrize("kind", list(FaultKind))
def test_precision_of_each_fault_kind_stays_above_its_floor(
    kind: FaultKind, report: ScoreReport
) -> None:
    row = report[kind]
    assert row.precision is not None
    assert row.precision >= FLOOR, row.to_dict()


def test_the_injector_s_default_detection_limits_are_the_prod_rules() -> None:
    assert DetectionLimits() == detection_limits(prod_settings())
    assert FaultConfig.profile("all").detection == DetectionLimits()


def test_an_early_reading_is_irregular_not_a_gap() -> None:
    validator = prod_settings().validator()
    validator.process(reading("10:00", 1000.0))
    early = validator.process(reading("10:18", 1100.0))
    after = validator.process(reading("11:00", 1200.0))
    assert [type(event) for event in early.events] == [Irregular]
    assert early.events[0] == Irregular(
        "M1", ms("10:18"), IrregularKind.OFF_GRID, offset_ms=-720_000
    )
    assert not [event for event in after.events if isinstance(event, Gap)]


# ---------------------------------------------------------------- the scoring itself


def _record(kind: FaultKind, start: str, end: str | None = None, **details: object) -> FaultRecord:
    return FaultRecord(kind, "M1", at(start), at(end or start), dict(details))


def test_a_gap_a_late_reading_closed_is_not_a_finding() -> None:
    gap = Gap("M1", ms("10:30"), ms("11:00"), 1, False, GapSource.READING)
    closed = GapClosed("M1", ms("10:30"), ms("11:00"), 1, ms("10:30"))
    report = score([], [gap, closed], [], INTERVAL_S)
    assert report[FaultKind.MISSING].findings == 0


def test_a_gap_over_a_missing_record_is_a_true_positive_and_one_elsewhere_is_false() -> None:
    record = _record(FaultKind.MISSING, "10:30", "11:00", intervals=2)
    found = Gap("M1", ms("10:30"), ms("11:30"), 2, False, GapSource.READING)
    stray = Gap("M1", ms("15:00"), ms("15:30"), 1, False, GapSource.READING)
    row = score([record], [found, stray], [], INTERVAL_S)[FaultKind.MISSING]
    assert (row.truth, row.detected, row.true_findings, row.false_positives) == (1, 1, 1, 1)
    assert (row.precision, row.recall) == (0.5, 1.0)


def test_a_gap_left_by_a_dead_lettered_reading_is_explained_by_the_malformed_record() -> None:
    record = _record(FaultKind.MALFORMED_JSON, "10:30", payload='{"v": 1, "met')
    gap = Gap("M1", ms("10:30"), ms("11:00"), 1, False, GapSource.READING)
    letter = DeadLetter(
        b'{"v": 1, "met', "not valid JSON: ...", "(message)", SUBJECT, kind=NOT_JSON
    )
    report = score([record], [gap], [letter], INTERVAL_S)
    missing, malformed = report[FaultKind.MISSING], report[FaultKind.MALFORMED_JSON]
    assert (missing.explained_by_other, missing.false_positives, missing.precision) == (1, 0, None)
    assert (malformed.detected, malformed.precision, malformed.recall) == (1, 1.0, 1.0)


def test_byte_identical_malformed_messages_each_explain_one_record() -> None:
    payload = '{"v":1,"meter_id":"M'
    records = [_record(FaultKind.MALFORMED_JSON, t, payload=payload) for t in ("10:00", "11:00")]
    letter = DeadLetter(payload.encode(), "not valid JSON", "(message)", SUBJECT, kind=NOT_JSON)
    assert score(records, [], [letter], INTERVAL_S)[FaultKind.MALFORMED_JSON].detected == 1
    assert score(records, [], [letter, letter], INTERVAL_S)[FaultKind.MALFORMED_JSON].recall == 1


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_malformed_message_is_told_by_its_error_kind_as_the_kind_it_was_made_as(
    kind: FaultKind,
) -> None:
    rng = np.random.default_rng(3)
    for _ in range(60):
        payload, _ = MAKERS[kind](reading("10:00", 1234.5), rng)
        with pytest.raises(ReadingError) as caught:
            decode_message(payload)
        assert malformed_kind(caught.value.kind) is kind, caught.value


def test_equally_shifted_readings_in_a_row_are_one_clock_skew() -> None:
    record = _record(FaultKind.CLOCK_SKEW, "10:25", "11:25", intervals=3)
    events = [
        Irregular("M1", ms(t), IrregularKind.OFF_GRID, offset_ms=-300_000)
        for t in ("10:25", "10:55", "11:25")
    ]
    report = score([record], events, [], INTERVAL_S)
    assert report[FaultKind.CLOCK_SKEW].findings == 1
    assert report[FaultKind.CLOCK_SKEW].true_findings == 1
    assert report[FaultKind.IRREGULAR_SAMPLING].findings == 0


def test_a_reset_found_where_a_decrease_was_injected_is_a_false_reset() -> None:
    record = _record(FaultKind.REGISTER_DECREASE, "10:00", from_wh=1500.0, drop_wh=900.0)
    found = RegisterEvent("M1", ms("10:00"), RegisterKind.RESET, 1500.0, 600.0, -900.0, 1_800_000)
    report = score([record], [found], [], INTERVAL_S)
    assert report[FaultKind.RESET].false_positives == 1
    assert report[FaultKind.REGISTER_DECREASE].recall == 0.0


def test_records_cut_short_by_the_end_of_the_run_are_censored() -> None:
    record = _record(FaultKind.ZERO_RUN, "22:30", "23:30", intervals=3)
    row = score([record], [], [], INTERVAL_S, run=(at("00:00"), at("23:30")))[FaultKind.ZERO_RUN]
    assert (row.truth, row.censored, row.recall) == (0, 1, None)


def test_the_report_renders_as_a_table_and_as_json() -> None:
    record = _record(FaultKind.SPIKE, "10:00")
    report = score([record], [Spike("M1", ms("10:00"), 9000.0, 500.0)], [], INTERVAL_S)
    document = orjson.loads(report.to_json())
    spike = next(row for row in document["kinds"] if row["kind"] == "spike")
    assert spike | {"precision": 1.0, "recall": 1.0, "detected": 1} == spike
    console = Console(width=200, record=True)
    console.print(report.table())
    assert "spike" in console.export_text()
