"""Per-meter state: every rule's state for one meter, versioned and serialisable.

The bytes are JSON: ``{"v": STATE_VERSION, "meter_id": ..., "last_event_ms": ...,
"progress_ms": ..., "rules": {rule or aggregator id: its dumped state}}``. Loading runs
the migrations from the stored version up to :data:`STATE_VERSION` first; a rule absent
from the stored state (newly configured) starts empty, and a stored rule no longer
configured is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from streaming_app.rules.base import Stateful

NEVER_MS = -(2**62)

STATE_VERSION = 2

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps the meter's newest *trusted* event time (its own watermark's base);
    version 1 kept only the newest event time of any kind, the best estimate of it."""
    last = data.get("last_event_ms")
    return {**data, "progress_ms": last if isinstance(last, int) and last > NEVER_MS else None}


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}
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
    """One meter's state for every rule and aggregator (by id), its newest event time, and
    its newest trusted event time (``progress_ms``: what its own watermark follows)."""

    meter_id: str
    last_event_ms: int
    rules: dict[str, Any]
    progress_ms: int | None = None

    @classmethod
    def empty(cls, meter_id: str, rules: Sequence[Stateful[Any]]) -> MeterState:
        return cls(meter_id, NEVER_MS, {rule.id: rule.new_state() for rule in rules})

    def to_dict(self, rules: Sequence[Stateful[Any]]) -> dict[str, Any]:
        dumped = {rule.id: rule.dump_state(self.rules[rule.id]) for rule in rules}
        return {
            "v": STATE_VERSION,
            "meter_id": self.meter_id,
            "last_event_ms": self.last_event_ms,
            "progress_ms": self.progress_ms,
            "rules": dumped,
        }

    def to_bytes(self, rules: Sequence[Stateful[Any]]) -> bytes:
        return orjson.dumps(self.to_dict(rules))

    @classmethod
    def from_dict(cls, data: dict[str, Any], rules: Sequence[Stateful[Any]]) -> MeterState:
        data = migrate(data)
        stored: Mapping[str, Any] = data["rules"]
        states = {
            rule.id: rule.load_state(stored[rule.id]) if rule.id in stored else rule.new_state()
            for rule in rules
        }
        progress = data["progress_ms"]
        return cls(str(data["meter_id"]), int(data["last_event_ms"]), states, progress)

    @classmethod
    def from_bytes(cls, data: bytes, rules: Sequence[Stateful[Any]]) -> MeterState:
        loaded = orjson.loads(data)
        if not isinstance(loaded, dict):
            raise StateVersionError(None, STATE_VERSION)
        return cls.from_dict(loaded, rules)
