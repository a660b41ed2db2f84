"""Labels of the voltage classifier: events of at least 10 min, starting N hours ahead."""

from __future__ import annotations

import pandas as pd

from training.voltage.labels import HOUR_MS, event_now, label_hours, qualifying

MIN = 60_000


def _events(*rows: tuple[str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["meter_id", "start_ms", "end_ms"])


def _hours(meter: str, first: int, count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"meter_id": meter, "hour_ms": [(first + k) * HOUR_MS for k in range(count)]}
    )


def test_only_episodes_of_at_least_the_minimum_length_qualify() -> None:
    events = _events(("M1", 0, 9 * MIN), ("M1", HOUR_MS, HOUR_MS + 10 * MIN), ("M1", 0, 30 * MIN))
    assert qualifying(events, 10)["end_ms"].tolist() == [HOUR_MS + 10 * MIN, 30 * MIN]


def test_an_hour_is_positive_when_an_event_starts_within_the_horizon_after_it() -> None:
    hours = _hours("M1", 0, 10)
    events = _events(("M1", 5 * HOUR_MS + 15 * MIN, 6 * HOUR_MS))
    labels = label_hours(hours, events, horizon_hours=2)
    # the event starts in hour 5: hours 3 and 4 see it within their next 2 hours; hour 5 not
    assert labels.tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_another_meters_event_does_not_label_this_meter() -> None:
    hours = pd.concat([_hours("M1", 0, 4), _hours("M2", 0, 4)], ignore_index=True)
    events = _events(("M2", 2 * HOUR_MS, 3 * HOUR_MS))
    labels = label_hours(hours, events, horizon_hours=24)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 0, 0]


def test_persistence_flags_the_hours_an_event_overlaps() -> None:
    hours = _hours("M1", 0, 6)
    events = _events(("M1", 2 * HOUR_MS + 30 * MIN, 4 * HOUR_MS))
    assert event_now(hours, events).tolist() == [0, 0, 1, 1, 1, 0]
