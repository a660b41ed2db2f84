"""Any event of a given type, for property tests over every event type (hypothesis).

Fields are drawn by their annotation: times and counts as epoch-ms-sized integers up to
2100, finite floats, booleans, meter-like ids, and any member of an enum. A new event
type is covered without being listed.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import StrEnum
from typing import Any

from hypothesis import strategies as st

from streaming_app.rules.events import Event

MAX_MS = 4_102_444_800_000  # 2100-01-01


def _values(hint: Any) -> st.SearchStrategy[Any]:
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return st.sampled_from(list(hint))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(min_value=0, max_value=MAX_MS),
        float: st.floats(allow_nan=False, allow_infinity=False, width=32),
        str: st.from_regex(r"\AM[0-9]{1,7}\Z"),
    }
    return simple[hint]


def events(cls: type[Event]) -> st.SearchStrategy[Event]:
    """Any instance of the event class ``cls``."""
    hints = typing.get_type_hints(cls)
    fields = {field.name: _values(hints[field.name]) for field in dataclasses.fields(cls)}
    return st.builds(cls, **fields)
