"""LCL files are GMT all year: both layouts read as UTC, ``--timezone`` still overrides.

The excerpt is built here, shaped like the published files: 2 meters, 48 half-hours on
every day (00:00 to 23:30, written without offset), around the 2013 clock changes
(31 March and 27 October), rows sorted by meter and then by time.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from inject.replay import CsvReader, FormatOptions, RowOutcome, resolve_format
from inject.replay.cli import build_parser, make_reader
from smart_meter.reading import Reading

METERS = ("MAC000002", "MAC000246")
SPRING_DAYS = (date(2013, 3, 30), date(2013, 3, 31), date(2013, 4, 1))
AUTUMN_DAYS = (date(2013, 10, 26), date(2013, 10, 27), date(2013, 10, 28))
CLOCK_CHANGE_DAYS = (date(2013, 3, 31), date(2013, 10, 27))
HALF_HOUR = timedelta(minutes=30)
HALF_HOURS_PER_DAY = 48
SPRING_READINGS = len(SPRING_DAYS) * HALF_HOURS_PER_DAY  # per meter, before the autumn days
LAYOUTS = {
    "lcl": "LCLid,stdorToU,DateTime,KWH/hh (per half hour) ",
    "lcl-tstp": "LCLid,tstp,energy(kWh/hh)",
}


def half_hours(days: tuple[date, ...]) -> list[datetime]:
    """Every half-hour of ``days`` as the file writes it: naive, 00:00 to 23:30."""
    first = datetime.combine(days[0], datetime.min.time())
    return [first + i * HALF_HOUR for i in range(len(days) * HALF_HOURS_PER_DAY)]


def excerpt_times() -> list[datetime]:
    return half_hours(SPRING_DAYS) + half_hours(AUTUMN_DAYS)


def lcl_row(layout: str, meter: str, written: datetime, energy_kwh: float) -> str:
    when = f"{written:%Y-%m-%d %H:%M:%S}.0000000"
    if layout == "lcl":
        return f"{meter},Std,{when},{energy_kwh:.3f} "  # values carry a trailing space
    return f"{meter},{when},{energy_kwh:.3f}"


def lcl_excerpt(tmp_path: Path, layout: str) -> Path:
    rows = [
        lcl_row(layout, meter, written, 0.1 + 0.001 * (n % 50))
        for meter in METERS
        for n, written in enumerate(excerpt_times())
    ]
    path = tmp_path / f"{layout}-2013-clock-changes.csv"
    path.write_text("\r\n".join([LAYOUTS[layout], *rows]) + "\r\n")
    return path


def readings(outcomes: list[RowOutcome]) -> list[Reading]:
    return [o.reading for o in outcomes if o.reading is not None]


def bad_reasons(outcomes: list[RowOutcome]) -> Counter[str]:
    return Counter(o.bad.reason for o in outcomes if o.bad is not None)


def by_meter(got: list[Reading]) -> dict[str, list[datetime]]:
    return {
        meter: [r.ts for r in group]
        for meter, group in itertools.groupby(got, key=lambda r: r.meter_id)
    }


def read_default(tmp_path: Path, layout: str) -> list[RowOutcome]:
    path = lcl_excerpt(tmp_path, layout)
    reader = CsvReader(path, resolve_format(path), FormatOptions())
    assert reader.format.name == layout
    return list(reader.rows())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lcl_excerpt_across_clock_changes_has_no_bad_rows(tmp_path: Path, layout: str) -> None:
    outcomes = read_default(tmp_path, layout)
    assert bad_reasons(outcomes) == Counter()
    assert len(readings(outcomes)) == len(METERS) * len(excerpt_times())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lcl_clock_change_days_keep_48_readings_per_meter(tmp_path: Path, layout: str) -> None:
    got = readings(read_default(tmp_path, layout))
    per_day = Counter((r.meter_id, r.ts.date()) for r in got)
    assert {per_day[meter, day] for meter in METERS for day in CLOCK_CHANGE_DAYS} == {48}
    assert set(per_day.values()) == {HALF_HOURS_PER_DAY}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lcl_every_reading_is_at_its_written_time_in_utc(tmp_path: Path, layout: str) -> None:
    times = by_meter(readings(read_default(tmp_path, layout)))
    expected = [written.replace(tzinfo=UTC) for written in excerpt_times()]
    assert times == dict.fromkeys(METERS, expected)
    for meter_times in times.values():  # the spring-forward hour exists, summer is not shifted
        assert datetime(2013, 3, 31, 1, 0, tzinfo=UTC) in meter_times
        assert datetime(2013, 3, 31, 1, 30, tzinfo=UTC) in meter_times
        assert datetime(2013, 10, 26, 12, 0, tzinfo=UTC) in meter_times


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lcl_consecutive_readings_are_exactly_half_an_hour_apart(
    tmp_path: Path, layout: str
) -> None:
    for meter_times in by_meter(readings(read_default(tmp_path, layout))).values():
        spring, autumn = meter_times[:SPRING_READINGS], meter_times[SPRING_READINGS:]
        for window in (spring, autumn):
            assert {b - a for a, b in itertools.pairwise(window)} == {HALF_HOUR}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_timezone_option_still_reads_lcl_as_london_wall_clock(tmp_path: Path, layout: str) -> None:
    path = lcl_excerpt(tmp_path, layout)
    args = build_parser().parse_args([str(path), "--timezone", "Europe/London"])
    outcomes = list(make_reader(args).rows())
    assert bad_reasons(outcomes) == {"nonexistent_local_time": 2 * len(METERS)}
    first_meter = zip(excerpt_times(), outcomes, strict=False)  # its rows come first
    utc_of = {written: o.reading.ts if o.reading else None for written, o in first_meter}
    assert utc_of[datetime(2013, 3, 30, 12, 0)] == datetime(2013, 3, 30, 12, 0, tzinfo=UTC)
    assert utc_of[datetime(2013, 3, 31, 1, 0)] is None  # in the spring-forward hole
    assert utc_of[datetime(2013, 3, 31, 1, 30)] is None
    assert utc_of[datetime(2013, 10, 26, 12, 0)] == datetime(2013, 10, 26, 11, 0, tzinfo=UTC)
