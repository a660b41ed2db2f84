"""The words of the event catalogue: detectors and their evidence, alert rows, table rows."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

from smart_meter.reading import Reading
from streaming_app.rules.events import Event

E = TypeVar("E", bound=Event)


class AlertKind(StrEnum):
    """Every kind of alert (``meter.alerts.<kind>``, ``alerts_by_day.kind``): events of
    several types are alerts, each of the kinds its route declares."""

    WINDOW_ENERGY = "window_energy"
    REGISTER_DECREASE = "register_decrease"
    REGISTER_ROLLOVER = "register_rollover"
    REGISTER_RESET = "register_reset"
    REGISTER_OVER_LIMIT = "register_over_limit"
    SPIKE = "spike"
    FLATLINE_STUCK = "flatline_stuck"
    FLATLINE_FLAT = "flatline_flat"
    FLATLINE_ZERO = "flatline_zero"
    VOLTAGE = "voltage"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    INTERVAL_CHANGE = "interval_change"


class Detector(StrEnum):
    """What a finding is evidence of, for scoring against a ground truth (the demo maps
    each detector to the fault kinds it reveals)."""

    GAP = "gap"
    LATE = "late"
    DUPLICATE_IDENTICAL = "duplicate_identical"
    DUPLICATE_CONFLICTING = "duplicate_conflicting"
    OFF_GRID = "off_grid"
    REGISTER_DECREASE = "register_decrease"
    REGISTER_RESET = "register_reset"
    REGISTER_ROLLOVER = "register_rollover"
    SPIKE = "spike"
    FLAT_LINE = "flat_line"
    ZERO_RUN = "zero_run"
    VOLTAGE_TRANSIENT = "voltage_transient"
    VOLTAGE_SUSTAINED = "voltage_sustained"
    DEAD_LETTER = "dead_letter"  # refused input: a dead letter, not an event


@dataclass(frozen=True, slots=True)
class Evidence:
    """One finding as a detector sees it: a meter over ``[start_ms, end_ms]`` (inclusive),
    with a ``measure`` (how far behind the watermark, how far off the grid) and a
    ``variant`` (a direction) where the detector tells fault kinds apart by them."""

    detector: Detector
    meter_id: str
    start_ms: int
    end_ms: int
    measure: int = 0
    variant: str = ""


@dataclass(frozen=True, slots=True)
class AlertFields:
    """An event as one row of ``alerts_by_day``."""

    kind: AlertKind
    start_ms: int
    end_ms: int
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None


class TableRow(NamedTuple):
    """One row for a Cassandra table, and the partition it lands in."""

    table: str
    columns: tuple[str, ...]
    values: tuple[Any, ...]
    partition: Hashable


RowValues = tuple[tuple[Any, ...], Hashable]


@dataclass(frozen=True, slots=True)
class Table(Generic[E]):
    """A table an event type is written to, and how one event becomes its row (given the
    reading the event keeps, if its route keeps one)."""

    name: str
    columns: tuple[str, ...]
    row: Callable[[E, Reading | None], RowValues]
