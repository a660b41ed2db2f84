"""The reading message: round trips, and a precise error for every kind of bad input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smart_meter.codec import (
    ReadingError,
    ReadingErrorKind,
    decode_message,
    encode_batch,
    encode_reading,
)
from smart_meter.reading import GridPosition, Reading

GOOD = {
    "v": 1,
    "meter_id": "M0000001",
    "ts": "2024-01-01T10:00:00Z",
    "seq": 3,
    "import_wh": 1234.5,
    "voltage_v": [231.0, 229.5, 230.2],
    "grid": {"line_id": "L1", "transformer_id": "T1", "usage_point_id": "UP1"},
}


def message(**changes: object) -> bytes:
    body = {**GOOD, **changes}
    return orjson.dumps({k: v for k, v in body.items() if v is not ...})


def error_of(data: bytes) -> ReadingError:
    with pytest.raises(ReadingError) as caught:
        decode_message(data)
    return caught.value


def test_single_reading_decodes_to_utc_and_epoch_ms() -> None:
    [reading] = decode_message(message(ts="2024-01-01T11:00:00+01:00")).readings
    assert reading.ts == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert reading.ts_ms == 1_704_103_200_000
    assert reading.key == ("M0000001", 1_704_103_200_000)
    assert reading.voltage_v == (231.0, 229.5, 230.2)


def test_absent_optional_fields_stay_absent_after_round_trip() -> None:
    reading = Reading(meter_id="M1", ts=datetime(2024, 5, 1, tzinfo=UTC), import_wh=10.0)
    body = orjson.loads(encode_reading(reading))
    assert body == {"v": 1, "meter_id": "M1", "ts": "2024-05-01T00:00:00Z", "import_wh": 10.0}


def test_batch_round_trip_keeps_every_reading_in_order() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    readings = [
        Reading(
            meter_id=f"M{i}",
            ts=start + timedelta(minutes=30 * i),
            import_wh=float(i),
            grid=GridPosition(transformer_id="T1"),
        )
        for i in range(5)
    ]
    decoded = decode_message(encode_batch(readings, concentrator_id="DC-1"))
    assert decoded.readings == readings
    assert decoded.rejected == []


K = ReadingErrorKind


@pytest.mark.parametrize(
    ("data", "field", "reason_part", "kind"),
    [
        (b"{not json", "(message)", "not valid JSON", K.NOT_JSON),
        (b"[1, 2]", "(message)", "JSON object", K.NOT_AN_OBJECT),
        (message(v=...), "v", "missing", K.UNKNOWN_VERSION),
        (message(v=2), "v", "unknown wire version 2", K.UNKNOWN_VERSION),
        (message(v=True), "v", "unknown wire version", K.UNKNOWN_VERSION),
        (message(meter_id=...), "meter_id", "Field required", K.MISSING_FIELD),
        (message(meter_id=""), "meter_id", "at least 1", K.INVALID_VALUE),
        (message(meter_id="M 1"), "meter_id", "pattern", K.INVALID_VALUE),
        (message(meter_id=17), "meter_id", "valid string", K.WRONG_TYPE),
        (message(ts="2024-01-01T10:00:00"), "ts", "timezone", K.NAIVE_TIME),
        (message(ts="yesterday"), "ts", "datetime", K.WRONG_TYPE),
        (message(ts="1970-01-01T00:00:00Z"), "ts", "outside 2000..2100", K.ABSURD_VALUE),
        (message(import_wh="lots"), "import_wh", "number", K.WRONG_TYPE),
        (message(import_wh="NaN"), "import_wh", "finite", K.NOT_FINITE),
        (message(import_wh=-1.0), "import_wh", "greater than or equal", K.ABSURD_VALUE),
        (message(import_wh=1e15), "import_wh", "less than or equal", K.ABSURD_VALUE),
        (message(voltage_v=[231.0, 5000.0]), "voltage_v.1", "less than or equal", K.ABSURD_VALUE),
        (message(voltage_v=[]), "voltage_v", "at least 1", K.INVALID_VALUE),
        (message(voltage_v="230"), "voltage_v", "valid tuple", K.WRONG_TYPE),
        (message(seq=-5), "seq", "greater than or equal", K.ABSURD_VALUE),
        (message(seq=1.5), "seq", "fractional", K.WRONG_TYPE),
        (message(colour="red"), "colour", "Extra inputs", K.UNKNOWN_FIELD),
        (message(grid={"feeder": "x"}), "grid.feeder", "Extra inputs", K.UNKNOWN_FIELD),
        (b'{"v":1,"readings":[]}', "readings", "non-empty", K.INVALID_VALUE),
        (b'{"v":1,"readings":"x"}', "readings", "non-empty", K.WRONG_TYPE),
    ],
)
def test_bad_message_names_the_field_the_reason_and_the_kind(
    data: bytes, field: str, reason_part: str, kind: ReadingErrorKind
) -> None:
    error = error_of(data)
    assert error.field == field
    assert reason_part in error.reason
    assert error.kind is kind


def test_nan_and_infinity_are_errors_not_values() -> None:
    assert (
        error_of(b'{"v":1,"meter_id":"M1","ts":"2024-01-01T00:00:00Z","import_wh":NaN}').field
        == "(message)"
    )
    body = {**GOOD, "temperature_c": math.inf}
    raw = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY).replace(b"null", b"Infinity")
    assert "JSON" in error_of(raw).reason
    with pytest.raises(ValueError, match="finite"):
        Reading(meter_id="M1", ts=datetime(2024, 1, 1, tzinfo=UTC), import_wh=math.nan)


def test_invalid_entries_of_a_batch_are_rejected_alone() -> None:
    good = {k: v for k, v in GOOD.items() if k != "v"}
    bad = {**good, "ts": "2024-01-01T10:30:00"}
    decoded = decode_message(orjson.dumps({"v": 1, "readings": [good, bad, 7, good]}))
    assert len(decoded.readings) == 2
    assert [(r.error.index, r.error.field, r.error.kind) for r in decoded.rejected] == [
        (1, "ts", K.NAIVE_TIME),
        (2, "(reading)", K.NOT_AN_OBJECT),
    ]
    assert decoded.rejected[0].raw == bad


def test_empty_batch_and_unknown_envelope_field_are_errors() -> None:
    assert error_of(b'{"v":1,"readings":[]}').field == "readings"
    good = {k: v for k, v in GOOD.items() if k != "v"}
    unknown = error_of(orjson.dumps({"v": 1, "readings": [good], "site": 1}))
    assert (unknown.field, unknown.kind) == ("site", K.UNKNOWN_FIELD)


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(
    ts=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=offsets
    ),
    import_wh=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    volts=st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=3),
)
def test_any_valid_reading_survives_encode_then_decode(
    ts: datetime, import_wh: float, volts: list[float]
) -> None:
    reading = Reading(meter_id="M-1", ts=ts, import_wh=import_wh, voltage_v=tuple(volts))
    [back] = decode_message(encode_reading(reading)).readings
    assert back.ts_ms == reading.ts_ms
    assert back.model_dump(exclude={"v"}) == reading.model_dump()
