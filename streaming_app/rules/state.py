"""Per-meter state: every rule's state for one meter, versioned and serialisable.

The bytes are JSON: ``{"v": STATE_VERSION, "meter_id": ..., "last_event_ms": ...,
"rules": {rule id: that rule's dumped state}}``. Loading runs the migrations from the
stored version up to :data:`STATE_VERSION` first; a rule absent from the stored state
(newly configured) starts empty, and a stored rule no longer configured is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from streaming_app.rules.base import Rule

STATE_VERSION = 1

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a version-``n`` state dict into a version ``n + 1`` one."""


class StateVersionError(ValueError):
    """Stored state whose version this code cannot read."""

    def __init__(self, found: object, supported: int) -> None:
        self.found, self.supported = found, supported
        super().__init__(f"state version {found!r} cannot be read (this code reads <= {supported})")


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` brought up to :data:`STATE_VERSION`."""
    version = data.get("v")
    if not isinstance(version, int) or version > STATE_VERSION:
        raise StateVersionError(version, STATE_VERSION)
    while version < STATE_VERSION:
        if version not in MIGRATIONS:
            raise StateVersionError(version, STATE_VERSION)
        data = MIGRATIONS[version](data)
        version += 1
        data["v"] = version
    return data


@dataclass(slots=True)
class MeterState:
    """One meter's state for every rule (by rule id), and its newest event time."""

    meter_id: str
    last_event_ms: int
    rules: dict[str, Any]

    @classmethod
    def empty(cls, meter_id: str, rules: Sequence[Rule[Any]]) -> MeterState:
        return cls(meter_id, -(2**62), {rule.id: rule.new_state() for rule in rules})

    def to_dict(self, rules: Sequence[Rule[Any]]) -> dict[str, Any]:
        dumped = {rule.id: rule.dump_state(self.rules[rule.id]) for rule in rules}
        return {
            "v": STATE_VERSION,
            "meter_id": self.meter_id,
            "last_event_ms": self.last_event_ms,
            "rules": dumped,
        }

    def to_bytes(self, rules: Sequence[Rule[Any]]) -> bytes:
        return orjson.dumps(self.to_dict(rules))

    @classmethod
    def from_dict(cls, data: dict[str, Any], rules: Sequence[Rule[Any]]) -> MeterState:
        data = migrate(data)
        stored: Mapping[str, Any] = data["rules"]
        states = {
            rule.id: rule.load_state(stored[rule.id]) if rule.id in stored else rule.new_state()
            for rule in rules
        }
        return cls(str(data["meter_id"]), int(data["last_event_ms"]), states)

    @classmethod
    def from_bytes(cls, data: bytes, rules: Sequence[Rule[Any]]) -> MeterState:
        loaded = orjson.loads(data)
        if not isinstance(loaded, dict):
            raise StateVersionError(None, STATE_VERSION)
        return cls.from_dict(loaded, rules)
