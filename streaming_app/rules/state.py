"""Per-meter state: every rule's state for one meter, versioned and serialisable.

The bytes are JSON: ``{"v": STATE_VERSION, "meter_id": ..., "last_event_ms": ...,
"progress_ms": ..., "reference": [ts_ms, wh], "rules": {rule or aggregator id: its
dumped state}}``. Loading runs
the migrations from the stored version up to :data:`STATE_VERSION` first; a rule absent
from the stored state (newly configured) starts empty, and a stored rule no longer
configured is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from smart_meter.reading import Reading
from streaming_app.rules.base import Interval, Stateful

NEVER_MS = -(2**62)

STATE_VERSION = 2

Migration = Callable[[dict[str, Any]], dict[str, Any]]


REFERENCE_FIELDS = {  # rule id -> fields of its version-1 state now kept by the engine
    "register": ("last_ts_ms", "last_wh"),
    "spike": ("last_ts_ms", "last_wh"),
    "flatline": ("last_ts_ms", "last_wh"),
    "window_threshold": ("last_wh",),
    "voltage": ("last_ts_ms",),
    "irregular": ("last_ts_ms",),
}


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps the meter's newest *trusted* event time (its own watermark's base;
    version 1 kept only the newest event time of any kind, the best estimate of it) and
    one reference reading for every rule (version 1's register rule held the same one)."""
    last = data.get("last_event_ms")
    rules = {rule_id: dict(state) for rule_id, state in data.get("rules", {}).items()}
    register = rules.get("register", {})
    reference = [register.get("last_ts_ms"), register.get("last_wh", 0.0)]
    for rule_id, fields in REFERENCE_FIELDS.items():
        for name in fields:
            rules.get(rule_id, {}).pop(name, None)
    progress = last if isinstance(last, int) and last > NEVER_MS else None
    return {**data, "progress_ms": progress, "reference": reference, "rules": rules}


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
    """One meter's state for every rule and aggregator (by id), its newest event time, its
    newest trusted event time (``progress_ms``: what its own watermark follows), and its
    reference reading (the newest no rule rejected: time and register)."""

    meter_id: str
    last_event_ms: int
    rules: dict[str, Any]
    progress_ms: int | None = None
    reference_ts_ms: int | None = None
    reference_wh: float = 0.0

    def interval_to(self, reading: Reading) -> Interval | None:
        """The reading against the reference; ``None`` before the meter's first."""
        if self.reference_ts_ms is None:
            return None
        return Interval(self.reference_ts_ms, self.reference_wh, reading.ts_ms, reading.import_wh)

    def refer_to(self, reading: Reading) -> None:
        """Make ``reading`` the reference if it is newer than the current one."""
        if self.reference_ts_ms is None or reading.ts_ms > self.reference_ts_ms:
            self.reference_ts_ms, self.reference_wh = reading.ts_ms, reading.import_wh

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
            "reference": [self.reference_ts_ms, self.reference_wh],
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
        reference_ts_ms, reference_wh = data["reference"]
        return cls(
            str(data["meter_id"]),
            int(data["last_event_ms"]),
            states,
            data["progress_ms"],
            reference_ts_ms,
            float(reference_wh),
        )

    @classmethod
    def from_bytes(cls, data: bytes, rules: Sequence[Stateful[Any]]) -> MeterState:
        loaded = orjson.loads(data)
        if not isinstance(loaded, dict):
            raise StateVersionError(None, STATE_VERSION)
        return cls.from_dict(loaded, rules)
