"""The validator: rules, aggregators, per-meter state, event-time watermarks and timers.

``process(reading, received_ms)`` runs the rules in order over the meter's state and
returns a :class:`Verdict`; each rule's context carries what the rules before it found
about the reading. A finding that rejects the reading, or halts it (a duplicate), stops
the rules after it; on a rejection, the rules before it forget the reading too (their
state is restored), so a rejected reading is never a reference for later ones. Each
meter's *reference* is its newest reading no rule rejected and no duplicate halted; the
engine hands every rule the reading against it (:class:`~streaming_app.rules.base.Interval`:
previous time and register, duration, energy), worked out once. Readings
no rule rejected or halted then go through the aggregators (running totals), whose
figures travel in ``Verdict.figures``, apart from the findings.

Two watermarks, both moved only by *trusted* event times (no rule suspects the clock:
off the meter's grid, or dated ahead of its receipt), never going back:

- each meter's own: its newest trusted event time minus ``out_of_orderness_ms``. Lateness
  is judged against it, so a meter is late only against its own readings, and no other
  meter's clock can make it late;
- the partition's (:attr:`Validator.watermark_ms`): the newest trusted event time of any
  meter, each capped at the time its reading was received, minus the same bound. It
  drives the timers (a meter gone silent: ``expire()``), idle eviction and the
  checkpoint. The cap keeps a clock running ahead of the platform from firing the
  other meters' timers early; for a replay of old files, receipt times lie far ahead
  of event times and the watermark follows event time.

``evict_idle()`` drops meters idle for longer than ``meter_ttl_ms``, so state stays
bounded. Nothing here reads a clock: receipt times come with the readings.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Aggregator, Context, Finding, Rule
from streaming_app.rules.events import DuplicateEvent, Event, LateEvent, Lateness
from streaming_app.rules.state import MeterState


class Status(StrEnum):
    """What becomes of the reading."""

    ACCEPTED = "accepted"
    FLAGGED = "flagged"  # stored, with the failed rule ids
    REJECTED = "rejected"  # routed aside with the reasons
    DUPLICATE = "duplicate"  # already processed: nothing new to store


class Quality(StrEnum):
    """Quality of a stored value. The streaming core only sees meter reads: ACTUAL."""

    ACTUAL = "A"
    ESTIMATED = "E"  # batch estimation fills gaps with separate, marked rows
    SUBSTITUTED = "S"  # edited values, never written over the raw ones


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of validating one reading."""

    meter_id: str
    ts_ms: int
    status: Status
    lateness: Lateness
    findings: tuple[Finding, ...]
    quality: Quality = Quality.ACTUAL
    figures: tuple[Any, ...] = ()  # the aggregators': a day's final totals, a day so far

    @property
    def failed_rules(self) -> tuple[str, ...]:
        """Ids of the rules the reading failed, in rule order, each once."""
        if not self.findings:  # most readings: nothing to walk
            return ()
        return tuple(dict.fromkeys(f.rule_id for f in self.findings if f.failed))

    @property
    def reasons(self) -> tuple[str, ...]:
        """Reason codes of the failures."""
        return tuple(f.reason for f in self.findings if f.failed)

    @property
    def events(self) -> tuple[Event, ...]:
        if not self.findings:
            return ()
        return tuple(f.event for f in self.findings if f.event is not None)


def _status(findings: Sequence[Finding]) -> Status:
    if not findings:
        return Status.ACCEPTED
    if any(f.action is Action.REJECT for f in findings):
        return Status.REJECTED
    if any(isinstance(f.event, DuplicateEvent) and f.event.identical for f in findings):
        return Status.DUPLICATE
    return Status.FLAGGED if any(f.failed for f in findings) else Status.ACCEPTED


class TimerQueue:
    """One pending deadline per meter; a heap with lazy deletion, compacted when stale."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, str]] = []
        self._due: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._due)

    def set(self, meter_id: str, due_ms: int | None) -> None:
        if due_ms is None:
            self._due.pop(meter_id, None)
        elif self._due.get(meter_id) != due_ms:
            self._due[meter_id] = due_ms
            heapq.heappush(self._heap, (due_ms, meter_id))
            if len(self._heap) > 2 * len(self._due) + 64:
                self._heap = [(due, meter) for meter, due in self._due.items()]
                heapq.heapify(self._heap)

    def pop_due(self, watermark_ms: int) -> list[str]:
        """Meters whose deadline is at or before the watermark, earliest first."""
        due_meters = []
        while self._heap and self._heap[0][0] <= watermark_ms:
            due_ms, meter_id = heapq.heappop(self._heap)
            if self._due.get(meter_id) == due_ms:
                del self._due[meter_id]
                due_meters.append(meter_id)
        return due_meters


class Validator:
    """Validates readings of many meters against one rule set."""

    def __init__(
        self,
        rules: Sequence[Rule[Any]],
        aggregators: Sequence[Aggregator[Any]] = (),
        *,
        out_of_orderness_ms: int,
        meter_ttl_ms: int,
    ) -> None:
        ids = [part.id for part in (*rules, *aggregators)]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule and aggregator ids must be unique, got {ids}")
        self.rules = tuple(rules)
        self.aggregators = tuple(aggregators)
        self._parts = (*self.rules, *self.aggregators)
        self.out_of_orderness_ms = out_of_orderness_ms
        self.meter_ttl_ms = meter_ttl_ms
        self._timed = tuple(r for r in self.rules if type(r).deadline_ms is not Rule.deadline_ms)
        self._time_checks = tuple(
            r for r in self.rules if type(r).suspects_time is not Rule.suspects_time
        )
        rejecting = [i for i, rule in enumerate(self.rules) if rule.rejects]
        self._undoable = frozenset(  # stateful rules a later rule may reject after
            i
            for i, rule in enumerate(self.rules)
            if rejecting and i < rejecting[-1] and dataclasses.fields(rule.state_type)
        )
        self._steps = tuple(  # (rule, its id, whether its state is saved before it runs)
            (rule, rule.id, i in self._undoable) for i, rule in enumerate(self.rules)
        )
        self._meters: dict[str, MeterState] = {}
        self._watermark_ms: int | None = None
        self._timers = TimerQueue()

    @property
    def watermark_ms(self) -> int | None:
        """The partition's event-time watermark (timers, eviction, the checkpoint); ``None``
        before the first trusted reading."""
        return self._watermark_ms

    def __len__(self) -> int:
        return len(self._meters)

    def process(self, reading: Reading, received_ms: int | None = None) -> Verdict:
        """Validate one reading (received by the platform at ``received_ms``, if known),
        aggregate it if no rule rejected or halted it, and update its meter's state."""
        state = self._meter(reading.meter_id)
        findings = self._evaluate(reading, state, received_ms)
        status = _status(findings)
        halted = bool(findings) and any(f.halt for f in findings)
        figures: tuple[Any, ...] = ()
        if status is not Status.REJECTED and not halted:
            figures = self._aggregate(reading, state, findings)
            state.refer_to(reading)
        if status is not Status.REJECTED:
            state.last_event_ms = max(state.last_event_ms, reading.ts_ms)
        if self._trusted(reading, received_ms):
            progress = state.progress_ms
            state.progress_ms = reading.ts_ms if progress is None else max(progress, reading.ts_ms)
            self._advance(_capped(reading.ts_ms, received_ms) - self.out_of_orderness_ms)
        self._schedule(state)
        return self._verdict(reading, status, findings, figures)

    def _meter(self, meter_id: str) -> MeterState:
        state = self._meters.get(meter_id)
        if state is None:
            state = self._meters[meter_id] = MeterState.empty(meter_id, self._parts)
        return state

    def _evaluate(
        self, reading: Reading, state: MeterState, received_ms: int | None
    ) -> list[Finding]:
        """Every rule in order, until one rejects (earlier ones then forget) or halts."""
        watermark_ms, interval = self.meter_watermark_ms(state), state.interval_to(reading)
        context = Context(watermark_ms, (), received_ms, interval)
        findings: list[Finding] = []
        saved: dict[str, Any] = {}
        states = state.rules
        for rule, rule_id, undoable in self._steps:
            if undoable:
                saved[rule_id] = rule.dump_state(states[rule_id])
            found = rule.evaluate(reading, states[rule_id], context)
            if not found:
                continue
            findings.extend(found)
            if any(f.action is Action.REJECT for f in found):
                return self._roll_back(state, saved, findings)
            if any(f.halt for f in found):
                break
            context = Context(watermark_ms, tuple(findings), received_ms, interval)
        return findings

    def _aggregate(
        self, reading: Reading, state: MeterState, findings: Sequence[Finding]
    ) -> tuple[Any, ...]:
        return tuple(
            figure
            for aggregator in self.aggregators
            for figure in aggregator.add(reading, state.rules[aggregator.id], findings)
        )

    @staticmethod
    def _verdict(
        reading: Reading, status: Status, findings: list[Finding], figures: tuple[Any, ...]
    ) -> Verdict:
        late = (
            next((f.event for f in findings if isinstance(f.event, LateEvent)), None)
            if findings  # most readings: nothing to walk
            else None
        )
        lateness = Lateness.ON_TIME if late is None else late.lateness
        meter_id, ts_ms = reading.meter_id, reading.ts_ms
        return Verdict(meter_id, ts_ms, status, lateness, tuple(findings), figures=figures)

    def meter_watermark_ms(self, state: MeterState) -> int | None:
        """The meter's own watermark: its newest trusted event time minus the bound."""
        progress = state.progress_ms
        return None if progress is None else progress - self.out_of_orderness_ms

    def _roll_back(
        self, state: MeterState, saved: dict[str, Any], findings: list[Finding]
    ) -> list[Finding]:
        """Undo what earlier rules learnt from a rejected reading; keep only their failures,
        without events (an accepted reading will raise those again)."""
        by_id = {rule.id: rule for rule in self.rules}
        for rule_id, data in saved.items():
            state.rules[rule_id] = by_id[rule_id].load_state(data)
        return [
            dataclasses.replace(f, event=None) if f.rule_id in saved else f
            for f in findings
            if f.failed or f.rule_id not in saved
        ]

    def advance_past(self, reading: Reading, received_ms: int | None = None) -> None:
        """Move the partition's watermark as :meth:`process` did for ``reading`` (one its
        meter's saved state already holds, skipped on recovery)."""
        if self._trusted(reading, received_ms):
            self._advance(_capped(reading.ts_ms, received_ms) - self.out_of_orderness_ms)

    def _trusted(self, reading: Reading, received_ms: int | None) -> bool:
        return not any(rule.suspects_time(reading, received_ms) for rule in self._time_checks)

    def expire(self, watermark_ms: int | None = None) -> list[Event]:
        """Events of the timers due by ``watermark_ms`` (which also advances the watermark)."""
        if watermark_ms is not None:
            self._advance(watermark_ms)
        if self._watermark_ms is None:
            return []
        events: list[Event] = []
        for meter_id in self._timers.pop_due(self._watermark_ms):
            state = self._meters[meter_id]
            for rule in self._timed:
                found = rule.expire(meter_id, state.rules[rule.id], self._watermark_ms)
                events.extend(f.event for f in found if f.event is not None)
            self._schedule(state)
        return events

    def evict_idle(self, now_ms: int) -> list[str]:
        """Forget meters with no event time newer than ``now_ms - meter_ttl_ms``."""
        cutoff = now_ms - self.meter_ttl_ms
        idle = [m for m, state in self._meters.items() if state.last_event_ms < cutoff]
        for meter_id in idle:
            del self._meters[meter_id]
            self._timers.set(meter_id, None)
        return idle

    def _advance(self, watermark_ms: int) -> None:
        if self._watermark_ms is None or watermark_ms > self._watermark_ms:
            self._watermark_ms = watermark_ms

    def _schedule(self, state: MeterState) -> None:
        if self._timed:
            deadlines = [r.deadline_ms(state.rules[r.id]) for r in self._timed]
            due = [d for d in deadlines if d is not None]
            self._timers.set(state.meter_id, min(due) if due else None)

    def rule_state(self, meter_id: str, rule_id: str) -> Any:
        """One rule's or aggregator's state of a meter (read-only by convention); ``None``
        if not held."""
        state = self._meters.get(meter_id)
        return None if state is None else state.rules.get(rule_id)

    def running(self, meter_ids: Iterable[str]) -> list[Any]:
        """The aggregators' figures in progress for ``meter_ids``, in that order."""
        found = (
            aggregator.running(meter_id, state.rules[aggregator.id])
            for meter_id in meter_ids
            if (state := self._meters.get(meter_id)) is not None
            for aggregator in self.aggregators
        )
        return [figures for figures in found if figures is not None]

    def meter_state(self, meter_id: str) -> bytes | None:
        """One meter's state as bytes (for a per-meter key-value store)."""
        state = self._meters.get(meter_id)
        return None if state is None else state.to_bytes(self._parts)

    def load_meter_state(self, data: bytes) -> None:
        """Restore one meter's state saved by :meth:`meter_state`."""
        self._restore([MeterState.from_bytes(data, self._parts)])

    def _restore(self, states: Iterable[MeterState]) -> None:
        for state in states:
            self._meters[state.meter_id] = state
            self._schedule(state)


def _capped(ts_ms: int, received_ms: int | None) -> int:
    """An event time as far as it may move the partition's watermark: up to its receipt."""
    return ts_ms if received_ms is None else min(ts_ms, received_ms)
