"""What the validation core says about a meter's stream: typed, frozen output events.

Every event names its meter; times are epoch milliseconds (UTC), energies Wh, voltages V.
Events that describe a stretch of time (gaps, voltage episodes) are keyed by
``(meter_id, start_ms)``: a later event with the same key supersedes the earlier one, so
a sink that upserts by that key keeps one record per gap or episode.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Lateness(StrEnum):
    """Event time against the watermark."""

    ON_TIME = "ON_TIME"
    LATE = "LATE"  # behind the watermark, within the allowed lateness: processed, marked
    TOO_LATE = "TOO_LATE"  # beyond the allowed lateness: routed aside
    FUTURE = "FUTURE"  # dated too far ahead of its arrival: routed aside like TOO_LATE


class GapSource(StrEnum):
    """What reported a gap."""

    READING = "reading"  # the reading after the silence
    TIMER = "timer"  # the event-time timer of a meter gone silent
    FILL = "fill"  # what is left of a gap after a late reading filled part of it


class IrregularKind(StrEnum):
    """How a meter's sampling is irregular."""

    OFF_GRID = "off_grid"
    INTERVAL_CHANGE = "interval_change"


class FlatLineKind(StrEnum):
    """What a run of equal intervals looks like."""

    STUCK = "stuck"  # no energy although current flows
    FLAT = "flat"  # the same energy again and again
    ZERO = "zero"  # no energy and no load


class VoltageDirection(StrEnum):
    """Which side of the EN 50160 band an episode left."""

    UNDER = "under"
    OVER = "over"
    BOTH = "both"


class VoltageDuration(StrEnum):
    """A voltage episode short of the sustained duration, or not."""

    TRANSIENT = "transient"
    SUSTAINED = "sustained"


class ThresholdKind(StrEnum):
    """What a threshold alert measured."""

    WINDOW_ENERGY = "window_energy"  # energy in an event-time window


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every output event."""

    meter_id: str


@dataclass(frozen=True, slots=True)
class LateEvent(Event):
    """A reading behind its meter's watermark; or, ``FUTURE``, dated ahead of the time it
    was received by more than the bound (``watermark_ms`` is then that receipt time and
    ``behind_ms`` is negative: how far ahead)."""

    ts_ms: int
    watermark_ms: int
    lateness: Lateness
    behind_ms: int


@dataclass(frozen=True, slots=True)
class DuplicateEvent(Event):
    """A second reading with the same (meter, event time)."""

    ts_ms: int
    identical: bool


@dataclass(frozen=True, slots=True)
class Gap(Event):
    """Missing intervals ``[start_ms, end_ms)``; ``open`` while the meter is still silent."""

    start_ms: int
    end_ms: int
    missing_intervals: int
    open: bool
    detected_by: GapSource


@dataclass(frozen=True, slots=True)
class GapClosed(Event):
    """A gap reported earlier no longer stands: a late reading filled (part of) it."""

    start_ms: int
    end_ms: int
    missing_intervals: int
    filled_at_ms: int


@dataclass(frozen=True, slots=True)
class Irregular(Event):
    """Sampling off the expected grid (``offset_ms``) or at a new cadence (``interval_ms``)."""

    ts_ms: int
    kind: IrregularKind
    offset_ms: int = 0
    interval_ms: int = 0


class RegisterKind(StrEnum):
    """What happened to the cumulative register."""

    DECREASE = "decrease"
    ROLLOVER = "rollover"
    RESET = "reset"
    OVER_LIMIT = "over_limit"


@dataclass(frozen=True, slots=True)
class RegisterEvent(Event):
    """A register that went down, wrapped, reset, or rose faster than the connection allows."""

    ts_ms: int
    kind: RegisterKind
    previous_wh: float
    current_wh: float
    energy_wh: float  # consumption implied (the wrapped amount for a rollover)
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class FlatLine(Event):
    """A run of intervals with a ``stuck`` register, ``flat`` (identical) or ``zero`` energy."""

    kind: FlatLineKind
    start_ms: int
    end_ms: int
    intervals: int
    interval_energy_wh: float


@dataclass(frozen=True, slots=True)
class Spike(Event):
    """An interval's average power far above the meter's recent history."""

    ts_ms: int
    power_w: float
    baseline_w: float


@dataclass(frozen=True, slots=True)
class VoltageEvent(Event):
    """One EN 50160 episode outside the band; ``ongoing`` until the voltage returns."""

    start_ms: int
    end_ms: int
    min_v: float
    max_v: float
    direction: VoltageDirection
    duration: VoltageDuration
    readings: int
    ongoing: bool


@dataclass(frozen=True, slots=True)
class Alert(Event):
    """A threshold crossed over ``[start_ms, end_ms)``: one per episode."""

    kind: ThresholdKind
    start_ms: int
    end_ms: int
    value: float
    threshold: float
    unit: str


def event_record(event: Event) -> dict[str, Any]:
    """The event as a flat, JSON-ready dict with its type name (for sinks)."""
    record: dict[str, Any] = {"type": type(event).__name__}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        record[field.name] = str(value) if isinstance(value, StrEnum) else value
    return record


class EventRecordError(ValueError):
    """A record that is not an event of this module."""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        LateEvent,
        DuplicateEvent,
        Gap,
        GapClosed,
        Irregular,
        RegisterEvent,
        FlatLine,
        Spike,
        VoltageEvent,
        Alert,
    )
}


def event_types() -> dict[str, type[Event]]:
    """Every concrete event class, by name (listed: ``slots=True`` dataclasses leave
    their pre-slots class behind among ``Event.__subclasses__()``)."""
    return dict(EVENT_TYPES)


def event_from_record(record: dict[str, Any]) -> Event:
    """The event back from :func:`event_record` (e.g. read from a NATS subject)."""
    cls = EVENT_TYPES.get(str(record.get("type")))
    if cls is None:
        raise EventRecordError(f"unknown event type {record.get('type')!r}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name not in record:
            if field.default is dataclasses.MISSING:
                raise EventRecordError(f"{cls.__name__} record lacks {field.name!r}")
            continue
        value, hint = record[field.name], hints[field.name]
        values[field.name] = (
            hint(value) if isinstance(hint, type) and issubclass(hint, StrEnum) else value
        )
    return cls(**values)
