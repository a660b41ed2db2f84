"""Encode and decode reading messages; every failure is a :class:`ReadingError` with a field
and a :class:`ReadingErrorKind`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from smart_meter.reading import WIRE_VERSION, Reading, ReadingBatch, ReadingMessage
from smart_meter.reading_errors import ReadingError, ReadingErrorKind, first_error

__all__ = [
    "Decoded",
    "ReadingError",
    "ReadingErrorKind",
    "Rejected",
    "decode_message",
    "encode_batch",
    "encode_reading",
]

_DUMP_OPTIONS = orjson.OPT_UTC_Z
Kind = ReadingErrorKind


@dataclass(frozen=True)
class Rejected:
    """One reading of a batch that failed validation; the batch's others go on."""

    raw: object
    error: ReadingError


@dataclass(frozen=True)
class Decoded:
    """The readings of one message, and the rejected entries of a batch."""

    readings: list[Reading]
    rejected: list[Rejected]


def _reading_dict(reading: Reading) -> dict[str, Any]:
    return reading.model_dump(exclude_none=True)


def encode_reading(reading: Reading) -> bytes:
    """One reading as a version-1 message."""
    return orjson.dumps({"v": WIRE_VERSION, **_reading_dict(reading)}, option=_DUMP_OPTIONS)


def encode_batch(readings: Sequence[Reading], concentrator_id: str | None = None) -> bytes:
    """Many readings as one version-1 batch message."""
    body: dict[str, Any] = {"v": WIRE_VERSION, "readings": [_reading_dict(r) for r in readings]}
    if concentrator_id is not None:
        body["concentrator_id"] = concentrator_id
    return orjson.dumps(body, option=_DUMP_OPTIONS)


def _validate(item: object, index: int | None = None) -> Reading:
    if not isinstance(item, dict):
        reason = f"expected an object, got {type(item).__name__}"
        raise ReadingError("(reading)", reason, index, kind=Kind.NOT_AN_OBJECT)
    try:
        return Reading.model_validate(item)
    except ValidationError as error:
        raise first_error(error, index) from None


def decode_message(data: bytes) -> Decoded:
    """Parse one message (single reading or batch).

    Raises :class:`ReadingError` when the message as a whole is unusable (not JSON,
    not an object, unknown version, a single reading that is invalid). Invalid
    entries of a batch are returned in ``rejected`` so the valid ones are kept.
    """
    # Fast path: pydantic parses and validates valid messages in one pass (2-3x faster);
    # anything it refuses goes through the careful path that finds the precise error.
    try:
        if b'"readings"' in data:
            return Decoded(ReadingBatch.model_validate_json(data).readings, [])
        return Decoded([ReadingMessage.model_validate_json(data)], [])
    except ValidationError:
        return _decode_carefully(data)


def _decode_carefully(data: bytes) -> Decoded:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ReadingError("(message)", f"not valid JSON: {error}", kind=Kind.NOT_JSON) from None
    if not isinstance(body, dict):
        reason = f"expected a JSON object, got {type(body).__name__}"
        raise ReadingError("(message)", reason, kind=Kind.NOT_AN_OBJECT)
    _check_version(body.pop("v", None))
    if "readings" not in body:
        return Decoded([_validate(body)], [])
    items = body.pop("readings")
    if not isinstance(items, list) or not items:
        kind = Kind.INVALID_VALUE if isinstance(items, list) else Kind.WRONG_TYPE
        raise ReadingError("readings", "expected a non-empty list of readings", kind=kind)
    unknown = set(body) - {"concentrator_id"}
    if unknown:
        field = sorted(unknown)[0]
        raise ReadingError(field, "unknown field in a batch envelope", kind=Kind.UNKNOWN_FIELD)
    readings: list[Reading] = []
    rejected: list[Rejected] = []
    for index, item in enumerate(items):
        try:
            readings.append(_validate(item, index))
        except ReadingError as error:
            rejected.append(Rejected(item, error))
    return Decoded(readings, rejected)


def _check_version(version: object) -> None:
    if version is None:
        raise ReadingError("v", "missing wire version", kind=Kind.UNKNOWN_VERSION)
    if version != WIRE_VERSION or isinstance(version, bool):
        reason = f"unknown wire version {version!r} (this build reads 1)"
        raise ReadingError("v", reason, kind=Kind.UNKNOWN_VERSION)
