"""One entry of the event catalogue: what an event type means, and where it goes.

A :class:`Route` says, for one event class,

- its natural key ``(family, meter, kind, time)``: a later event with the same key
  supersedes an earlier one, so sinks keep the last of each key;
- whether it leaves the app at all (``routed``): a LATE reading is only a flag on its
  row, a TOO_LATE or FUTURE one is routed aside;
- whether it is an alert, and of which :class:`AlertKind` (``alerts_by_day`` and
  ``meter.alerts.<kind>``);
- its own NATS subject and Cassandra tables, if any (alerts have theirs);
- the evidence it gives of a fault, for scoring (:class:`Evidence`).

Routes hold functions of the event, never type switches; the sinks and the scoring loop
over routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from smart_meter.reading import Reading
from smart_meter.subjects import alert_subject
from streaming_app.catalogue.rows import alert_row
from streaming_app.catalogue.vocabulary import AlertFields, AlertKind, Evidence, Table, TableRow
from streaming_app.rules.events import Event

E = TypeVar("E", bound=Event)
NaturalKey = tuple[str, str, str, int]
ReadingsByKey = Mapping[tuple[str, int], Reading]


def _no_kind(event: Event) -> str:
    return ""


def _always(event: Event) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Route(Generic[E]):
    """Where events of ``event_type`` go and what they mean (see the module docstring)."""

    event_type: type[E]
    when_ms: Callable[[E], int]
    kind: Callable[[E], str] = _no_kind
    family: str = ""  # natural-key family shared with another type ("": its own name)
    routed: Callable[[E], bool] = _always
    subject: str | None = None  # its own subject; alerts go on meter.alerts.<kind>
    tables: tuple[Table[E], ...] = ()
    alert: Callable[[E], AlertFields | None] | None = None
    alert_kinds: tuple[AlertKind, ...] = ()  # every kind ``alert`` can return
    evidence: Callable[[E], Evidence | None] | None = None
    episodic: bool = False  # re-reported as it grows or ends: scored by its last report
    keeps_reading: bool = False  # carries the refused reading at (meter, when_ms)

    @property
    def name(self) -> str:
        return self.event_type.__name__

    def key(self, event: E) -> NaturalKey:
        """(family, meter, kind, time): a later event with this key supersedes."""
        return self.family or self.name, event.meter_id, str(self.kind(event)), self.when_ms(event)

    def label(self, event: E) -> str:
        """``Type:kind`` (or ``Type``), for counts of findings nothing scores."""
        kind = str(self.kind(event))
        return f"{self.name}:{kind}" if kind else self.name

    def alert_of(self, event: E) -> AlertFields | None:
        """The event as an alert, or ``None`` when it is not one."""
        if self.alert is None or not self.routed(event):
            return None
        return self.alert(event)

    def subject_of(self, event: E) -> str | None:
        """Where the event is published, or ``None`` if it is not."""
        if not self.routed(event):
            return None
        if self.subject is not None:
            return self.subject
        fields = self.alert_of(event)
        return None if fields is None else alert_subject(fields.kind)

    def subjects(self) -> tuple[str, ...]:
        """Every subject events of this type may be published on."""
        own = () if self.subject is None else (self.subject,)
        return own + tuple(alert_subject(kind) for kind in self.alert_kinds)

    def reading_of(self, event: E, rejected: ReadingsByKey) -> Reading | None:
        """The refused reading the event keeps, if it keeps one."""
        if not self.keeps_reading:
            return None
        return rejected.get((event.meter_id, self.when_ms(event)))

    def rows(self, event: E, reading: Reading | None) -> Iterator[TableRow]:
        """The event's rows: its own tables', then its alert's."""
        if not self.routed(event):
            return
        for table in self.tables:
            values, partition = table.row(event, reading)
            yield TableRow(table.name, table.columns, values, partition)
        fields = self.alert_of(event)
        if fields is not None:
            yield alert_row(event, fields)

    def evidence_of(self, event: E) -> Evidence | None:
        return None if self.evidence is None else self.evidence(event)
