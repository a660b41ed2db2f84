"""The event catalogue's contract: every event type has a route, every route's subjects
are held by a stream and its tables exist with their columns, and every detector and
error kind is mapped by the demo's scoring. Event types are found, not listed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demo.detections import CATEGORY, MALFORMED, PICKERS
from smart_meter.codec import ReadingErrorKind
from smart_meter.storage.schema import ADDED_COLUMNS, TABLES
from smart_meter.streams import (
    dead_letter_stream_config,
    events_stream_config,
    findings_stream_config,
)
from smart_meter.subjects import DEAD_LETTER_SUBJECT, finding_subject
from streaming_app.catalogue import (
    CATALOGUE,
    AlertKind,
    Detector,
    Route,
    UnroutedEventError,
    route_of,
)
from streaming_app.rules.events import Event, event_types
from tests.event_examples import events

ROUTES = {route.name: route for route in CATALOGUE}


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(tokens) == len(wanted)


def held_by(config: Any, subject: str) -> bool:
    return any(subject_matches(pattern, subject) for pattern in config.subjects)


def schema_columns() -> dict[str, set[str]]:
    """Each table of the schema's CQL, with its columns."""
    tables: dict[str, set[str]] = {}
    for statement in TABLES:
        name = re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
        assert name is not None
        columns = re.findall(r"^\s*(\w+) [\w<>, ]+,\s*$", statement, re.MULTILINE)
        tables[name.group(1)] = set(columns)
    for table, column, _ in ADDED_COLUMNS:
        tables[table].add(column)
    return tables


def test_the_subject_matcher_follows_nats_wildcards() -> None:
    assert subject_matches("meter.alerts.>", "meter.alerts.spike")
    assert not subject_matches("meter.alerts.>", "meter.alerts")
    assert subject_matches("meter.*", "meter.gaps")
    assert not subject_matches("meter.*", "meter.gaps.x")


def test_every_event_type_has_exactly_its_route() -> None:
    assert set(ROUTES) == set(event_types())
    assert all(ROUTES[name].event_type is cls for name, cls in event_types().items())


def test_an_event_of_a_type_without_a_route_is_refused_by_name() -> None:
    class Stray(Event):
        pass

    with pytest.raises(UnroutedEventError, match="Stray"):
        route_of(Stray("M1"))


@pytest.mark.parametrize("route", ROUTES.values(), ids=list(ROUTES))
def test_every_subject_of_a_route_is_held_by_the_events_stream(route: Route[Any]) -> None:
    assert [s for s in route.subjects() if not held_by(events_stream_config(), s)] == []
    assert held_by(findings_stream_config(), finding_subject(route.name))


def test_dead_letters_have_their_stream() -> None:
    assert held_by(dead_letter_stream_config(), DEAD_LETTER_SUBJECT)


def test_every_table_a_route_writes_exists_with_its_columns() -> None:
    schema = schema_columns()
    for table, columns in CATALOGUE.table_layouts():
        assert table in schema, table
        assert set(columns) <= schema[table], (table, set(columns) - schema[table])


def test_every_alert_kind_is_raised_by_some_route() -> None:
    raised = [kind for route in CATALOGUE for kind in route.alert_kinds]
    assert sorted(raised) == sorted(AlertKind)


@pytest.mark.parametrize("route", ROUTES.values(), ids=list(ROUTES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_what_a_route_does_with_any_event_stays_within_what_it_declares(
    route: Route[Any], data: st.DataObject
) -> None:
    event = data.draw(events(route.event_type))
    family, meter_id, _, when_ms = route.key(event)
    assert (family, meter_id) == (route.family or route.name, event.meter_id)
    assert isinstance(when_ms, int)
    subject = route.subject_of(event)
    assert subject is None or subject in route.subjects()
    alert = route.alert_of(event)
    assert alert is None or alert.kind in route.alert_kinds
    layouts = CATALOGUE.table_layouts()
    for row in route.rows(event, None):
        assert (row.table, row.columns) in layouts
        assert len(row.values) == len(row.columns)
    evidence = route.evidence_of(event)
    assert evidence is None or evidence.meter_id == event.meter_id


def test_every_detector_is_mapped_to_fault_kinds_by_the_demo_scoring() -> None:
    assert set(CATEGORY.values()) == set(Detector)
    shared = {d for d in Detector if sum(1 for c in CATEGORY.values() if c == d) > 1}
    assert shared - {Detector.DEAD_LETTER} <= set(PICKERS)


def test_every_error_kind_is_mapped_to_a_malformed_kind_by_the_demo_scoring() -> None:
    assert set(MALFORMED) == set(ReadingErrorKind)
    assert all(kind.startswith("malformed_") for kind in MALFORMED.values())
