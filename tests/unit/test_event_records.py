"""Events as JSON records and back: what the NATS subjects carry, and the audit trail."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_meter.subjects import finding_subject
from streaming_app.rules.events import (
    Alert,
    DuplicateEvent,
    Event,
    EventRecordError,
    FlatLine,
    FlatLineKind,
    Gap,
    GapClosed,
    GapSource,
    Irregular,
    IrregularKind,
    LateEvent,
    Lateness,
    RegisterEvent,
    RegisterKind,
    Spike,
    ThresholdKind,
    VoltageDirection,
    VoltageDuration,
    VoltageEvent,
    event_from_record,
    event_record,
    event_types,
)
from streaming_app.sinks.nats_sink import finding_messages
from tests.event_examples import events

EXAMPLES: list[Event] = [
    LateEvent("M1", 1_000, 2_000, Lateness.TOO_LATE, 1_000),
    DuplicateEvent("M1", 1_000, identical=True),
    Gap("M1", 0, 3_600_000, 2, True, GapSource.TIMER),
    GapClosed("M1", 0, 3_600_000, 2, 1_800_000),
    Irregular("M1", 1_000, IrregularKind.OFF_GRID, offset_ms=-720_000),
    RegisterEvent("M1", 1_000, RegisterKind.ROLLOVER, 99_999.5, 0.5, 1.0, 1_800_000),
    FlatLine("M1", FlatLineKind.ZERO, 0, 3_600_000, 2, 0.0),
    Spike("M1", 1_000, 9_000.0, 400.0),
    VoltageEvent(
        "M1", 0, 60_000, 190.0, 200.0, VoltageDirection.UNDER, VoltageDuration.TRANSIENT, 2, False
    ),
    Alert("M1", ThresholdKind.WINDOW_ENERGY, 0, 60_000, 0.07, 0.05, "kWh"),
]


@pytest.mark.parametrize("cls", list(event_types().values()), ids=list(event_types()))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_event_of_any_type_survives_json_and_back(
    cls: type[Event], data: st.DataObject
) -> None:
    event = data.draw(events(cls))
    back = event_from_record(orjson.loads(orjson.dumps(event_record(event))))
    assert back == event
    assert [type(getattr(back, f.name)) for f in dataclasses.fields(back)] == [
        type(getattr(event, f.name)) for f in dataclasses.fields(event)
    ]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_an_event_survives_json_and_back_with_its_enums(event: Event) -> None:
    record = orjson.loads(orjson.dumps(event_record(event)))
    back = event_from_record(record)
    assert back == event
    assert type(back) is type(event)
    if isinstance(back, LateEvent):
        assert back.lateness is Lateness.TOO_LATE
    if isinstance(back, RegisterEvent):
        assert back.kind is RegisterKind.ROLLOVER


def test_records_of_unknown_types_or_missing_fields_are_refused() -> None:
    with pytest.raises(EventRecordError, match="unknown event type 'Nope'"):
        event_from_record({"type": "Nope", "meter_id": "M1"})
    with pytest.raises(EventRecordError, match="lacks 'ts_ms'"):
        event_from_record({"type": "Spike", "meter_id": "M1"})


def test_the_audit_trail_keeps_every_event_in_order_and_tells_equal_ones_apart() -> None:
    twice = DuplicateEvent("M1", 1_000, identical=True)
    messages = list(finding_messages([EXAMPLES[2], twice, twice], "S@1"))
    assert [m.subject for m in messages] == [
        finding_subject("Gap"),
        finding_subject("DuplicateEvent"),
        finding_subject("DuplicateEvent"),
    ]
    assert [event_from_record(orjson.loads(m.payload)) for m in messages] == [
        EXAMPLES[2],
        twice,
        twice,
    ]
    ids = [m.headers["Nats-Msg-Id"] for m in messages]
    assert len(set(ids)) == 3
    assert ids == [
        m.headers["Nats-Msg-Id"] for m in finding_messages([EXAMPLES[2], twice, twice], "S@1")
    ]
