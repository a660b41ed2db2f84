"""The UCI household file through the replay parser and the validator: exactly its gaps and
voltage episodes, worked out independently here with pandas from the raw file.

The file: one house near Paris, one row a minute, local time (Europe/Paris; the excerpt
lies wholly in winter time, UTC+1), day-first dates without zero padding. The replay
parser reads it as meter ``UCI-1``; the validator runs the demo preset (60-s grid) with
the EN 50160 band 207–253 V, and once more with a tight band (234–246 V) that the
house's voltage (226–252 V) leaves hundreds of times, so episodes are really compared.
"""

from __future__ import annotations

import pandas as pd
import pytest

from inject.replay import CsvReader, FormatOptions, resolve_format
from smart_meter.reading import Reading
from streaming_app.rules.events import Event, Gap, GapClosed, VoltageEvent
from streaming_app.validation import demo_settings
from tests.uci_expectations import (
    EN_50160,
    METER_ID,
    ROWS,
    TIGHT,
    TIGHT_EPISODES,
    Episode,
    GapKey,
    expected_episodes,
    expected_gaps,
    raw_frame,
    uci_file,
    voltage_rule,
)

# ---------------------------------------------------------------- the pipeline's side


def replayed_readings() -> list[Reading]:
    """The file through the replay's own reader and UCI parser; no row may be bad."""
    path = uci_file()
    fmt = resolve_format(path)
    assert fmt.name == "uci"
    outcomes = list(CsvReader(path, fmt, FormatOptions()).rows())
    assert [o.bad for o in outcomes if o.bad is not None] == []
    return [o.reading for o in outcomes if o.reading is not None]


def validated_events(readings: list[Reading], band: tuple[float, float]) -> list[Event]:
    validator = demo_settings(voltage=voltage_rule(band)).validator()
    events: list[Event] = []
    for reading in readings:
        events += validator.process(reading).events
    return events + validator.expire()


def found_gaps(events: list[Event]) -> set[GapKey]:
    assert not [e for e in events if isinstance(e, GapClosed)]
    return {(e.start_ms, e.end_ms, e.missing_intervals) for e in events if isinstance(e, Gap)}


def found_episodes(events: list[Event]) -> set[Episode]:
    """One per (meter, start): a final event supersedes the ``ongoing`` one."""
    latest = {(e.meter_id, e.start_ms): e for e in events if isinstance(e, VoltageEvent)}
    assert not [e for e in latest.values() if e.ongoing]
    return {
        Episode(e.start_ms, e.end_ms, e.min_v, e.max_v, e.direction, e.duration, e.readings)
        for e in latest.values()
    }


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return raw_frame()


@pytest.fixture(scope="module")
def readings() -> list[Reading]:
    return replayed_readings()


def test_every_row_becomes_a_reading_at_its_paris_time_in_utc(
    frame: pd.DataFrame, readings: list[Reading]
) -> None:
    assert len(frame) == len(readings) == ROWS
    assert [r.ts_ms for r in readings] == frame["ts_ms"].tolist()
    assert readings[0].ts.isoformat() == "2006-12-16T16:24:00+00:00"  # 17:24 CET
    assert {r.meter_id for r in readings} == {METER_ID}


def test_the_file_has_two_three_minute_jumps_each_two_missing_minutes(frame: pd.DataFrame) -> None:
    gaps = sorted(expected_gaps(frame))
    assert [missing for _, _, missing in gaps] == [2, 2]
    assert [pd.Timestamp(start, unit="ms", tz="UTC").isoformat() for start, _, _ in gaps] == [
        "2006-12-21T10:23:00+00:00",
        "2006-12-30T09:08:00+00:00",
    ]


@pytest.mark.parametrize("band", [EN_50160, TIGHT], ids=["en50160", "tight"])
def test_the_validator_finds_exactly_the_gaps_of_the_file(
    band: tuple[float, float], frame: pd.DataFrame, readings: list[Reading]
) -> None:
    assert found_gaps(validated_events(readings, band)) == expected_gaps(frame)


@pytest.mark.parametrize("band", [EN_50160, TIGHT], ids=["en50160", "tight"])
def test_the_validator_finds_exactly_the_voltage_episodes_of_the_file(
    band: tuple[float, float], frame: pd.DataFrame, readings: list[Reading]
) -> None:
    expected = expected_episodes(frame, band)
    assert found_episodes(validated_events(readings, band)) == expected
    if band == EN_50160:
        assert expected == set()  # the house's 226-252 V never leaves the EN 50160 band
    else:
        assert len(expected) == TIGHT_EPISODES
