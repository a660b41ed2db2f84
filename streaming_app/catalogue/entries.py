"""The catalogue: one route per event type of :mod:`streaming_app.rules.events`.

Adding an event type means adding its class (with the rule that raises it) and its
route here; the sinks and the demo's scoring loop over these routes. What each type
does today:

- gaps (``Gap``, and ``GapClosed`` which shares its key): ``gaps_by_meter`` and
  ``meter.gaps``;
- TOO_LATE and FUTURE readings (``LateEvent``): ``late_events_by_day`` and ``meter.late``, with the
  reading; a reading that is only LATE is processed and marked on its row;
- alerts: window thresholds, register events, spikes, flat lines, voltage episodes (also
  ``voltage_events_by_meter``), conflicting duplicates and cadence changes, on
  ``meter.alerts.<kind>`` and in ``alerts_by_day``. Identical duplicates (redeliveries)
  and off-grid readings are quality flags of the reading, not alerts.
"""

from __future__ import annotations

from smart_meter.subjects import GAPS_SUBJECT, LATE_SUBJECT
from streaming_app.catalogue.route import Route
from streaming_app.catalogue.rows import GAPS, GAPS_CLOSED, LATE_READINGS, VOLTAGE_EPISODES
from streaming_app.catalogue.vocabulary import AlertFields, AlertKind, Detector, Evidence
from streaming_app.rules.events import (
    Alert,
    DuplicateEvent,
    FlatLine,
    FlatLineKind,
    Gap,
    GapClosed,
    Irregular,
    IrregularKind,
    LateEvent,
    Lateness,
    RegisterEvent,
    RegisterKind,
    Spike,
    ThresholdKind,
    VoltageDirection,
    VoltageDuration,
    VoltageEvent,
)

A, D = AlertKind, Detector

ROUTED_ASIDE = frozenset({Lateness.TOO_LATE, Lateness.FUTURE})  # stored apart, with the payload


def _late_evidence(event: LateEvent) -> Evidence:
    return Evidence(D.LATE, event.meter_id, event.ts_ms, event.ts_ms, measure=event.behind_ms)


LATE = Route(
    LateEvent,
    when_ms=lambda e: e.ts_ms,
    routed=lambda e: e.lateness in ROUTED_ASIDE,
    subject=LATE_SUBJECT,
    tables=(LATE_READINGS,),
    evidence=_late_evidence,
    keeps_reading=True,
)


def _duplicate_alert(event: DuplicateEvent) -> AlertFields | None:
    return (
        None if event.identical else AlertFields(A.CONFLICTING_DUPLICATE, event.ts_ms, event.ts_ms)
    )


def _duplicate_evidence(event: DuplicateEvent) -> Evidence:
    detector = D.DUPLICATE_IDENTICAL if event.identical else D.DUPLICATE_CONFLICTING
    return Evidence(detector, event.meter_id, event.ts_ms, event.ts_ms)


DUPLICATE = Route(
    DuplicateEvent,
    when_ms=lambda e: e.ts_ms,
    alert=_duplicate_alert,
    alert_kinds=(A.CONFLICTING_DUPLICATE,),
    evidence=_duplicate_evidence,
)

GAP = Route(
    Gap,
    when_ms=lambda e: e.start_ms,
    subject=GAPS_SUBJECT,
    tables=(GAPS,),
    evidence=lambda e: Evidence(D.GAP, e.meter_id, e.start_ms, e.end_ms - 1),
    episodic=True,
)
GAP_CLOSED = Route(  # supersedes its gap: the gap no longer stands (no evidence of its own)
    GapClosed,
    when_ms=lambda e: e.start_ms,
    family="Gap",
    subject=GAPS_SUBJECT,
    tables=(GAPS_CLOSED,),
    episodic=True,
)


def _interval_change_alert(event: Irregular) -> AlertFields | None:
    if event.kind is not IrregularKind.INTERVAL_CHANGE:
        return None
    interval_ms = float(event.interval_ms)
    return AlertFields(A.INTERVAL_CHANGE, event.ts_ms, event.ts_ms, interval_ms, unit="ms")


def _off_grid_evidence(event: Irregular) -> Evidence | None:
    if event.kind is not IrregularKind.OFF_GRID:
        return None
    return Evidence(D.OFF_GRID, event.meter_id, event.ts_ms, event.ts_ms, event.offset_ms)


IRREGULAR = Route(
    Irregular,
    when_ms=lambda e: e.ts_ms,
    kind=lambda e: e.kind,
    alert=_interval_change_alert,
    alert_kinds=(A.INTERVAL_CHANGE,),
    evidence=_off_grid_evidence,
)

_REGISTER_ALERTS = {kind: AlertKind(f"register_{kind}") for kind in RegisterKind}
_REGISTER_DETECTORS = {
    RegisterKind.DECREASE: D.REGISTER_DECREASE,
    RegisterKind.RESET: D.REGISTER_RESET,
    RegisterKind.ROLLOVER: D.REGISTER_ROLLOVER,
}


def _register_alert(event: RegisterEvent) -> AlertFields:
    kind = _REGISTER_ALERTS[event.kind]
    return AlertFields(kind, event.ts_ms, event.ts_ms, event.energy_wh, unit="Wh")


def _register_evidence(event: RegisterEvent) -> Evidence | None:
    detector = _REGISTER_DETECTORS.get(event.kind)
    return (
        None if detector is None else Evidence(detector, event.meter_id, event.ts_ms, event.ts_ms)
    )


REGISTER = Route(
    RegisterEvent,
    when_ms=lambda e: e.ts_ms,
    kind=lambda e: e.kind,
    alert=_register_alert,
    alert_kinds=tuple(_REGISTER_ALERTS.values()),
    evidence=_register_evidence,
)

_FLATLINE_ALERTS = {kind: AlertKind(f"flatline_{kind}") for kind in FlatLineKind}


def _flatline_alert(event: FlatLine) -> AlertFields:
    kind = _FLATLINE_ALERTS[event.kind]
    return AlertFields(kind, event.start_ms, event.end_ms, event.intervals, unit="intervals")


def _flatline_evidence(event: FlatLine) -> Evidence:
    detector = D.ZERO_RUN if event.kind is FlatLineKind.ZERO else D.FLAT_LINE
    return Evidence(detector, event.meter_id, event.start_ms, event.end_ms)


FLAT_LINE = Route(
    FlatLine,
    when_ms=lambda e: e.start_ms,
    kind=lambda e: e.kind,
    alert=_flatline_alert,
    alert_kinds=tuple(_FLATLINE_ALERTS.values()),
    evidence=_flatline_evidence,
)

SPIKE = Route(
    Spike,
    when_ms=lambda e: e.ts_ms,
    alert=lambda e: AlertFields(A.SPIKE, e.ts_ms, e.ts_ms, e.power_w, unit="W"),
    alert_kinds=(A.SPIKE,),
    evidence=lambda e: Evidence(D.SPIKE, e.meter_id, e.ts_ms, e.ts_ms),
)


def _voltage_alert(event: VoltageEvent) -> AlertFields:
    """The voltage furthest out of the band: the minimum of an under-voltage, else the maximum."""
    value = event.min_v if event.direction is VoltageDirection.UNDER else event.max_v
    return AlertFields(A.VOLTAGE, event.start_ms, event.end_ms, value, unit="V")


def _voltage_evidence(event: VoltageEvent) -> Evidence:
    sustained = event.duration is VoltageDuration.SUSTAINED
    detector = D.VOLTAGE_SUSTAINED if sustained else D.VOLTAGE_TRANSIENT
    return Evidence(detector, event.meter_id, event.start_ms, event.end_ms, variant=event.direction)


VOLTAGE = Route(
    VoltageEvent,
    when_ms=lambda e: e.start_ms,
    tables=(VOLTAGE_EPISODES,),
    alert=_voltage_alert,
    alert_kinds=(A.VOLTAGE,),
    evidence=_voltage_evidence,
    episodic=True,
)


_THRESHOLD_ALERTS = {kind: AlertKind(kind) for kind in ThresholdKind}


def _threshold_alert(event: Alert) -> AlertFields:
    kind = _THRESHOLD_ALERTS[event.kind]
    return AlertFields(kind, event.start_ms, event.end_ms, event.value, event.threshold, event.unit)


THRESHOLD = Route(
    Alert,
    when_ms=lambda e: e.start_ms,
    kind=lambda e: e.kind,
    alert=_threshold_alert,
    alert_kinds=tuple(_THRESHOLD_ALERTS.values()),
)

ROUTES = (
    LATE,
    DUPLICATE,
    GAP,
    GAP_CLOSED,
    IRREGULAR,
    REGISTER,
    FLAT_LINE,
    SPIKE,
    VOLTAGE,
    THRESHOLD,
)
