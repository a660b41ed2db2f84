"""Per-minute metric points: dead letters counted by reason (error kind) and field."""

from __future__ import annotations

from smart_meter.codec import ReadingErrorKind
from smart_meter.reading_errors import message_field
from streaming_app.processed import DeadLetter, ProcessedBatch
from streaming_app.sinks.metrics_points import MinuteStats

K = ReadingErrorKind
TS_NS = 1_700_000_000_000_000_000


def letter(kind: ReadingErrorKind, field: str, seq: int) -> DeadLetter:
    return DeadLetter(b"x", "why", field, "meter.readings.3", seq, kind=kind)


def dead_letter_lines(stats: MinuteStats) -> list[str]:
    return [line for line in stats.lines(3, TS_NS) if line.startswith("dead_letters,")]


def test_dead_letters_are_counted_per_reason_and_field() -> None:
    stats = MinuteStats()
    letters = (
        letter(K.NOT_JSON, "(message)", 1),
        letter(K.ABSURD_VALUE, "voltage_v.1", 2),
        letter(K.ABSURD_VALUE, "voltage_v.0", 3),
        letter(K.MISSING_FIELD, "ts", 4),
    )
    stats.add(ProcessedBatch(3, 60_000, dead_letters=letters))
    assert dead_letter_lines(stats) == [
        f"dead_letters,partition=3,reason=absurd_value,field=voltage_v count=2i {TS_NS}",
        f"dead_letters,partition=3,reason=missing_field,field=ts count=1i {TS_NS}",
        f"dead_letters,partition=3,reason=not_json,field=(message) count=1i {TS_NS}",
    ]


def test_dead_letters_of_a_minute_add_up_and_a_retried_batch_is_not_counted_twice() -> None:
    stats = MinuteStats()
    first = ProcessedBatch(0, 1_000, dead_letters=(letter(K.NOT_JSON, "(message)", 1),))
    second = ProcessedBatch(0, 2_000, dead_letters=(letter(K.NOT_JSON, "(message)", 2),))
    assert stats.add(first) and stats.add(second)
    assert not stats.add(first)
    [line] = dead_letter_lines(stats)
    assert " count=2i " in line
    assert "dead_letters=2i" in next(x for x in stats.lines(3, TS_NS) if x.startswith("through"))


def test_a_field_the_message_format_lacks_is_tagged_other_to_keep_series_bounded() -> None:
    stats = MinuteStats()
    made_up = [letter(K.UNKNOWN_FIELD, name, n) for n, name in enumerate(("colour", "x y=z"))]
    stats.add(ProcessedBatch(0, 1_000, dead_letters=tuple(made_up)))
    assert [line.split(" ")[0] for line in dead_letter_lines(stats)] == [
        "dead_letters,partition=3,reason=unknown_field,field=(other)"
    ]


def test_message_fields_are_the_top_level_fields_of_the_format() -> None:
    assert [message_field(f) for f in ("grid.line_id", "readings", "v", "(reading)")] == [
        "grid",
        "readings",
        "v",
        "(reading)",
    ]
    assert message_field("grid_id") == "(other)"


def test_a_minute_without_dead_letters_has_no_dead_letter_points() -> None:
    stats = MinuteStats()
    stats.add(ProcessedBatch(0, 1_000))
    assert dead_letter_lines(stats) == []


def test_throughput_is_tagged_with_the_replica_for_the_load_per_replica() -> None:
    stats = MinuteStats()
    stats.add(ProcessedBatch(3, 60_000, dead_letters=(letter(K.NOT_JSON, "(message)", 1),)))
    [line] = [x for x in stats.lines(3, TS_NS, "app-1") if x.startswith("throughput,")]
    assert line.startswith("throughput,partition=3,replica=app-1 readings=0i")
    [untagged] = [x for x in stats.lines(3, TS_NS) if x.startswith("throughput,")]
    assert untagged.startswith("throughput,partition=3 readings=")


def test_consumer_lag_is_the_latest_batch_and_sink_retries_the_highest_count() -> None:
    stats = MinuteStats()
    stats.add(ProcessedBatch(3, 1_000, pending_messages=40, sink_retries=2))
    stats.add(ProcessedBatch(3, 2_000, pending_messages=7, sink_retries=5))
    stats.add(ProcessedBatch(3, 3_000, pending_messages=0, sink_retries=5))
    [line] = [x for x in stats.lines(3, TS_NS, "app-1") if x.startswith("consumer,")]
    assert line == f"consumer,partition=3,replica=app-1 pending=0i,sink_retries=5i {TS_NS}"


def test_a_minute_without_a_known_consumer_lag_has_no_consumer_point() -> None:
    stats = MinuteStats()
    stats.add(ProcessedBatch(3, 1_000))
    assert not [x for x in stats.lines(3, TS_NS, "app-1") if x.startswith("consumer,")]
