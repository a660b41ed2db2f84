"""Why a reading message was refused: a field, words for people, and a kind for machines.

Every :class:`ReadingError` carries a :class:`ReadingErrorKind`, set where the error is
raised (or, for a pydantic validation error, from the error's type, never its wording),
so that dead letters can be counted and classified by kind.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from smart_meter.reading import ImplausibleValueError, Reading, ReadingBatch

MESSAGE_FIELDS = frozenset(
    {*Reading.model_fields, *ReadingBatch.model_fields, "(message)", "(reading)"}
)
OTHER_FIELD = "(other)"


class ReadingErrorKind(StrEnum):
    """What was wrong with refused input (the ``Smart-Meter-Error-Kind`` header)."""

    NOT_JSON = "not_json"  # not parseable as JSON (cut short, not UTF-8, empty)
    NOT_AN_OBJECT = "not_an_object"  # JSON, but the message or a batch entry is no object
    UNKNOWN_VERSION = "unknown_version"  # wire version absent or not one this build reads
    MISSING_FIELD = "missing_field"  # a required field is absent
    UNKNOWN_FIELD = "unknown_field"  # a field the message format does not have
    WRONG_TYPE = "wrong_type"  # a value of the wrong JSON type, or text that is no number
    NOT_FINITE = "not_finite"  # NaN or an infinity where a measurement belongs
    ABSURD_VALUE = "absurd_value"  # outside what a meter can measure, or outside 2000-2100
    NAIVE_TIME = "naive_time"  # an event time without a time zone
    INVALID_VALUE = "invalid_value"  # right type, not allowed (an ill-formed id, no phases)
    WRONG_PARTITION = "wrong_partition"  # a meter on another partition's subject


class ReadingError(ValueError):
    """A message or reading that cannot be accepted: which field, what was wrong, which kind."""

    def __init__(
        self, field: str, reason: str, index: int | None = None, *, kind: ReadingErrorKind
    ) -> None:
        self.field, self.reason, self.index, self.kind = field, reason, index, kind
        where = f"readings[{index}]." if index is not None else ""
        super().__init__(f"{where}{field}: {reason}")

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason, "index": self.index, "kind": self.kind}


_KIND_OF_TYPE: dict[str, ReadingErrorKind] = {
    "missing": ReadingErrorKind.MISSING_FIELD,
    "extra_forbidden": ReadingErrorKind.UNKNOWN_FIELD,
    "finite_number": ReadingErrorKind.NOT_FINITE,
    "timezone_aware": ReadingErrorKind.NAIVE_TIME,
    "greater_than": ReadingErrorKind.ABSURD_VALUE,
    "greater_than_equal": ReadingErrorKind.ABSURD_VALUE,
    "less_than": ReadingErrorKind.ABSURD_VALUE,
    "less_than_equal": ReadingErrorKind.ABSURD_VALUE,
    "int_parsing_size": ReadingErrorKind.ABSURD_VALUE,  # more digits than any register has
    "int_from_float": ReadingErrorKind.WRONG_TYPE,
}


def kind_of(detail: ErrorDetails) -> ReadingErrorKind:
    """The kind of one pydantic error, from its type (and the exception a validator raised)."""
    error_type = detail["type"]
    if error_type in _KIND_OF_TYPE:
        return _KIND_OF_TYPE[error_type]
    if error_type.endswith(("_type", "_parsing")):
        return ReadingErrorKind.WRONG_TYPE
    cause = detail.get("ctx", {}).get("error")
    if isinstance(cause, ImplausibleValueError):
        return ReadingErrorKind.ABSURD_VALUE
    return ReadingErrorKind.INVALID_VALUE


def first_error(error: ValidationError, index: int | None = None) -> ReadingError:
    """The first problem pydantic found, as a :class:`ReadingError`."""
    detail = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in detail["loc"]) or "(message)"
    return ReadingError(field, detail["msg"], index, kind=kind_of(detail))


def message_field(field: str) -> str:
    """The top-level field of the message format an error's field lies in (``voltage_v.1``:
    ``voltage_v``), or ``(other)`` for one the format lacks: a bounded set, fit for a tag."""
    top = field.split(".", 1)[0]
    return top if top in MESSAGE_FIELDS else OTHER_FIELD
