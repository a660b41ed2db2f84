"""What the sinks do with each event type: its natural key, its alert kind, where it goes.

Shared by the Cassandra and NATS sinks so that both keep and publish the same events:

- gaps (``Gap``, ``GapClosed``): the gaps table and ``meter.gaps``;
- TOO_LATE and FUTURE readings (``LateEvent``): the late-events table and ``meter.late``;
  a reading that is only LATE is processed and marked on its row, not routed aside;
- alerts: window thresholds, register events, spikes, flat lines, voltage episodes,
  conflicting duplicates and cadence changes, on ``meter.alerts.<kind>`` and in
  ``alerts_by_day``. Identical duplicates (redeliveries) and off-grid readings are
  quality flags of the reading, not alerts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streaming_app.rules.events import (
    Alert,
    DuplicateEvent,
    Event,
    FlatLine,
    Gap,
    GapClosed,
    Irregular,
    LateEvent,
    Lateness,
    RegisterEvent,
    Spike,
    VoltageEvent,
)


def natural_key(event: Event) -> tuple[str, str, str, int]:
    """(family, meter, kind, start or event time): a later event with this key supersedes."""
    family = "Gap" if isinstance(event, GapClosed) else type(event).__name__
    kind = str(getattr(event, "kind", ""))
    when: int | None = getattr(event, "start_ms", None)
    if when is None:
        when = int(getattr(event, "ts_ms", 0))
    return family, event.meter_id, kind, when


def latest_by_key(events: Iterable[Event]) -> list[Event]:
    """The last event of each natural key, in the order those last events came."""
    latest: dict[tuple[str, str, str, int], Event] = {}
    for event in events:
        key = natural_key(event)
        latest.pop(key, None)  # re-insert: order follows the superseding event
        latest[key] = event
    return list(latest.values())


def is_gap(event: Event) -> bool:
    return isinstance(event, Gap | GapClosed)


ROUTED_ASIDE = frozenset({Lateness.TOO_LATE, Lateness.FUTURE})


def is_routed_late(event: Event) -> bool:
    """A reading too late to process, or dated in the future: kept aside with its payload."""
    return isinstance(event, LateEvent) and event.lateness in ROUTED_ASIDE


@dataclass(frozen=True, slots=True)
class AlertFields:
    """An event as one row of ``alerts_by_day``."""

    kind: str
    start_ms: int
    end_ms: int
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None


def alert_fields(event: Event) -> AlertFields | None:
    """The event as an alert, or ``None`` when it is not one."""
    match event:
        case Alert():
            return AlertFields(
                event.kind, event.start_ms, event.end_ms, event.value, event.threshold, event.unit
            )
        case RegisterEvent():
            kind = f"register_{event.kind}"
            return AlertFields(kind, event.ts_ms, event.ts_ms, event.energy_wh, unit="Wh")
        case Spike():
            return AlertFields("spike", event.ts_ms, event.ts_ms, event.power_w, unit="W")
        case FlatLine():
            kind = f"flatline_{event.kind}"
            return AlertFields(
                kind, event.start_ms, event.end_ms, event.intervals, unit="intervals"
            )
        case VoltageEvent():
            return _voltage_alert(event)
        case DuplicateEvent(identical=False):
            return AlertFields("conflicting_duplicate", event.ts_ms, event.ts_ms)
        case Irregular(kind="interval_change"):
            interval_ms = float(event.interval_ms)
            return AlertFields("interval_change", event.ts_ms, event.ts_ms, interval_ms, unit="ms")
    return None


def _voltage_alert(event: VoltageEvent) -> AlertFields:
    """The voltage furthest out of the band: the minimum of an under-voltage, else the maximum."""
    value = event.min_v if event.direction == "under" else event.max_v
    return AlertFields("voltage", event.start_ms, event.end_ms, value, unit="V")


def alert_kind(event: Event) -> str | None:
    fields = alert_fields(event)
    return None if fields is None else fields.kind
