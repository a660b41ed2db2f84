"""The event catalogue: each event type's key, alert, subject, tables and detector.

:data:`CATALOGUE` (the routes of :mod:`.entries`) is the one place that knows event
types; the NATS and Cassandra sinks and the demo's scoring loop over it. A contract test
(``tests/unit/test_event_catalogue.py``) checks that every event type has a route whose
subjects a stream holds and whose tables the schema has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from streaming_app.catalogue.entries import ROUTES
from streaming_app.catalogue.route import NaturalKey, Route
from streaming_app.catalogue.rows import ALERT_COLUMNS, ALERT_TABLE
from streaming_app.catalogue.vocabulary import (
    AlertFields,
    AlertKind,
    Detector,
    Evidence,
    Table,
    TableRow,
)
from streaming_app.rules.events import Event

__all__ = [
    "CATALOGUE",
    "AlertFields",
    "AlertKind",
    "Catalogue",
    "Detector",
    "Evidence",
    "NaturalKey",
    "Route",
    "Table",
    "TableRow",
    "UnroutedEventError",
    "gather_evidence",
    "latest_by_key",
    "natural_key",
    "route_of",
]


class UnroutedEventError(LookupError):
    """An event of a type the catalogue has no route for."""

    def __init__(self, event_type: type[Event]) -> None:
        self.event_type = event_type
        super().__init__(f"no catalogue route for {event_type.__name__}")


class Catalogue:
    """Routes by event type."""

    def __init__(self, routes: Iterable[Route[Any]]) -> None:
        self._routes: dict[type[Event], Route[Any]] = {r.event_type: r for r in routes}

    def __iter__(self) -> Iterator[Route[Any]]:
        return iter(self._routes.values())

    def get(self, event_type: type[Event]) -> Route[Any] | None:
        return self._routes.get(event_type)

    def route(self, event: Event) -> Route[Any]:
        """The route of ``event``'s type; :class:`UnroutedEventError` if there is none."""
        found = self._routes.get(type(event))
        if found is None:
            raise UnroutedEventError(type(event))
        return found

    def table_layouts(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every (table, columns) some route writes, in catalogue order."""
        layouts: dict[tuple[str, tuple[str, ...]], None] = {}
        for route in self:
            layouts.update(dict.fromkeys((t.name, t.columns) for t in route.tables))
            if route.alert is not None:
                layouts[(ALERT_TABLE, ALERT_COLUMNS)] = None
        return list(layouts)


CATALOGUE = Catalogue(ROUTES)


def route_of(event: Event) -> Route[Any]:
    return CATALOGUE.route(event)


def natural_key(event: Event) -> NaturalKey:
    """(family, meter, kind, start or event time): a later event with this key supersedes."""
    return route_of(event).key(event)


def latest_by_key(events: Iterable[Event]) -> list[Event]:
    """The last event of each natural key, in the order those last events came."""
    latest: dict[NaturalKey, Event] = {}
    for event in events:
        key = natural_key(event)
        latest.pop(key, None)  # re-insert: order follows the superseding event
        latest[key] = event
    return list(latest.values())


def gather_evidence(events: Iterable[Event]) -> tuple[list[Evidence], Counter[str]]:
    """The evidence of a run's findings, and counts of those that give none, by label.

    An episodic finding (a gap, a voltage episode) counts by its last report only, and a
    last report without evidence (a gap filled) withdraws it; other findings count each
    time. Events of types without a route are counted by their type name.
    """
    evidence: list[Evidence] = []
    unscored: Counter[str] = Counter()
    episodic: list[Event] = []
    for event in events:
        route = CATALOGUE.get(type(event))
        if route is None:
            unscored[type(event).__name__] += 1
        elif route.episodic:
            episodic.append(event)
        elif (found := route.evidence_of(event)) is not None:
            evidence.append(found)
        else:
            unscored[route.label(event)] += 1
    for event in latest_by_key(episodic):
        found = route_of(event).evidence_of(event)
        if found is not None:
            evidence.append(found)
    return evidence, unscored
