"""CSV replay formats: detection, parsing, registers, time zones, bad rows (no servers)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inject.replay import CsvReader, FormatOptions, ReplayError, RowOutcome, resolve_format
from smart_meter.reading import Reading
from tests.shared_data import shared_file
from tests.uci_expectations import uci_file

PS2024_NAMES = ("test1.csv", "test-q1.csv", "test-q3.csv")  # in ../shared/data/ps2024-tp1
UCI_HEADER = (
    "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
    "Sub_metering_1;Sub_metering_2;Sub_metering_3"
)
LCL_STD_HEADER = "LCLid,stdorToU,DateTime,KWH/hh (per half hour) "
LONDON = ZoneInfo("Europe/London")  # --timezone for London wall-clock files


def read(
    path: Path, fmt: str = "auto", options: FormatOptions | None = None
) -> tuple[str, list[RowOutcome]]:
    reader = CsvReader(path, resolve_format(path, fmt), options or FormatOptions())
    return reader.format.name, list(reader.rows())


def sample(tmp_path: Path, text: str, name: str = "sample.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def readings(outcomes: list[RowOutcome]) -> list[Reading]:
    return [o.reading for o in outcomes if o.reading is not None]


def bad_reasons(outcomes: list[RowOutcome]) -> list[tuple[int, str]]:
    return [(o.line_no, o.bad.reason) for o in outcomes if o.bad is not None]


def ps2024_file(name: str) -> Path:
    return shared_file("ps2024-tp1", name)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- generic -------------------------------------------------------------------------


def test_generic_builds_a_cumulative_register_from_zero_per_meter(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "meter_id,timestamp,consumption_kwh\n"
        "M1,2024-01-01T00:15:00,0.25\nM2,2024-01-01T00:15:00,1.0\n"
        "M1,2024-01-01T00:30:00,0.5\nM2,2024-01-01T00:30:00,0\n",
    )
    name, outcomes = read(path)
    assert name == "generic"
    assert [(r.meter_id, r.import_wh) for r in readings(outcomes)] == [
        ("M1", 250.0),
        ("M2", 1000.0),
        ("M1", 750.0),
        ("M2", 1000.0),
    ]


def test_generic_takes_the_column_aliases_in_any_order(tmp_path: Path) -> None:
    path = sample(tmp_path, "kWh,extra,meterId,Timestamp\n0.1,x,H7,2024-03-01 10:00:00\n")
    _, outcomes = read(path)
    assert [(r.meter_id, r.ts, r.import_wh) for r in readings(outcomes)] == [
        ("H7", utc(2024, 3, 1, 10), 100.0)
    ]


def test_generic_naive_times_are_utc_unless_a_zone_is_given(tmp_path: Path) -> None:
    path = sample(tmp_path, "id,timestamp,consumption\nM1,2024-07-01 12:00:00,1\n")
    _, as_utc = read(path)
    _, as_paris = read(path, options=FormatOptions(timezone=ZoneInfo("Europe/Paris")))
    assert readings(as_utc)[0].ts == utc(2024, 7, 1, 12)
    assert readings(as_paris)[0].ts == utc(2024, 7, 1, 10)


def test_generic_keeps_an_explicit_offset(tmp_path: Path) -> None:
    path = sample(
        tmp_path, "id,timestamp,kwh\nM1,2024-07-01T12:00:00+02:00,1\nM1,2024-07-01T11:00Z,1\n"
    )
    _, outcomes = read(path)
    assert [r.ts for r in readings(outcomes)] == [utc(2024, 7, 1, 10), utc(2024, 7, 1, 11)]


def test_generic_bad_rows_are_counted_with_their_reason_and_add_no_energy(
    tmp_path: Path,
) -> None:
    path = sample(
        tmp_path,
        "meter_id,timestamp,consumption_kwh\n"
        "M1,2024-01-01T00:15:00,1\n"  # line 2: good
        "M1,2024-01-01T00:30:00,-0.5\n"  # 3: negative
        "M1,not a time,1\n"  # 4
        "M1,2024-01-01T00:45:00,abc\n"  # 5
        "M1,2024-01-01T01:00:00\n"  # 6: two columns
        "\n"  # 7: empty line
        "M 1,2024-01-01T01:15:00,1\n"  # 8: id with a space
        ",2024-01-01T01:15:00,1\n"  # 9: no id
        "M1,2024-01-01T01:30:00,inf\n"  # 10
        "M1,2024-01-01T01:45:00,2\n",  # 11: good
    )
    _, outcomes = read(path)
    assert bad_reasons(outcomes) == [
        (3, "negative_energy"),
        (4, "bad_timestamp"),
        (5, "bad_number"),
        (6, "wrong_column_count"),
        (7, "empty_line"),
        (8, "invalid_reading"),
        (9, "missing_value"),
        (10, "bad_number"),
    ]
    assert [r.import_wh for r in readings(outcomes)] == [1000.0, 3000.0]


def test_explicit_generic_format_refuses_a_header_without_its_columns(tmp_path: Path) -> None:
    path = sample(tmp_path, "meter,when,energy\nM1,2024-01-01,1\n")
    with pytest.raises(ReplayError, match=r"sample.csv:1: not a generic header"):
        read(path, "generic")


# --- London LCL ----------------------------------------------------------------------


def test_lcl_header_with_trailing_space_is_detected(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        f"{LCL_STD_HEADER}\r\nMAC000002,Std,2012-10-12 00:30:00.0000000, 0 \r\n"
        "MAC000002,Std,2012-10-12 01:00:00.0000000,0.143 \r\n",
    )
    assert LCL_STD_HEADER.endswith(" ")
    name, outcomes = read(path)
    assert name == "lcl"
    assert [(r.meter_id, r.ts, r.import_wh) for r in readings(outcomes)] == [
        ("MAC000002", utc(2012, 10, 12, 0, 30), 0.0),
        ("MAC000002", utc(2012, 10, 12, 1, 0), pytest.approx(143.0)),
    ]


def test_lcl_tstp_header_is_detected_and_null_is_a_missing_value(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "LCLid,tstp,energy(kWh/hh)\n"
        "MAC000131,2011-12-15 13:00:00.0000000,0.2\n"
        "MAC000131,2011-12-15 13:30:00.0000000,Null\n"
        "MAC000131,2011-12-15 14:00:00.0000000,0.3\n",
    )
    name, outcomes = read(path)
    assert name == "lcl-tstp"
    assert bad_reasons(outcomes) == [(3, "missing_value")]
    assert [r.import_wh for r in readings(outcomes)] == [pytest.approx(200.0), pytest.approx(500.0)]


def test_lcl_times_are_gmt_in_winter_and_summer(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "LCLid,tstp,energy(kWh/hh)\n"
        "MAC1,2012-01-15 12:00:00.0000000,0.1\nMAC1,2012-07-15 12:00:00.0000000,0.1\n",
    )
    _, outcomes = read(path)
    assert [r.ts for r in readings(outcomes)] == [utc(2012, 1, 15, 12), utc(2012, 7, 15, 12)]


def test_london_wall_clock_repeated_autumn_hour_keeps_each_meters_order(tmp_path: Path) -> None:
    # 2012-10-28: London clocks go back at 02:00 BST, so 01:00 and 01:30 happen twice.
    local_times = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    rows = "".join(f"MAC1,2012-10-28 {t}:00.0000000,0.1\n" for t in local_times)
    path = sample(tmp_path, "LCLid,tstp,energy(kWh/hh)\n" + rows)
    _, outcomes = read(path, options=FormatOptions(timezone=LONDON))
    times = [r.ts for r in readings(outcomes)]
    assert times == [
        utc(2012, 10, 27, 23, 30),
        *(utc(2012, 10, 28, h, m) for h in (0, 1) for m in (0, 30)),
        utc(2012, 10, 28, 2),
    ]


def test_london_wall_clock_spring_forward_hole_is_a_nonexistent_local_time(
    tmp_path: Path,
) -> None:
    path = sample(
        tmp_path,
        "LCLid,tstp,energy(kWh/hh)\n"
        "MAC1,2012-03-25 00:30:00.0000000,0.1\n"
        "MAC1,2012-03-25 01:30:00.0000000,0.1\n"
        "MAC1,2012-03-25 02:00:00.0000000,0.1\n",
    )
    _, outcomes = read(path, options=FormatOptions(timezone=LONDON))
    assert bad_reasons(outcomes) == [(3, "nonexistent_local_time")]
    assert [r.ts for r in readings(outcomes)] == [utc(2012, 3, 25, 0, 30), utc(2012, 3, 25, 1)]


def test_meter_id_override_refuses_rows_of_a_second_meter(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "LCLid,tstp,energy(kWh/hh)\nMAC1,2012-01-15 12:00:00,0.1\nMAC2,2012-01-15 12:00:00,0.1\n",
    )
    _, outcomes = read(path, options=FormatOptions(meter_id="HOUSE", meter_prefix="t-"))
    assert [r.meter_id for r in readings(outcomes)] == ["t-HOUSE"]
    assert bad_reasons(outcomes) == [(3, "other_meter")]


def test_meter_prefix_with_characters_outside_meter_ids_is_refused() -> None:
    with pytest.raises(ReplayError, match="meter prefix"):
        FormatOptions(meter_prefix="run 1/")


# --- ps2024 --------------------------------------------------------------------------


def _independent_ps2024_rows(path: Path) -> list[tuple[str, str, float]]:
    lines = path.read_bytes().decode().splitlines()
    return [(f[0], f[1], float(f[2])) for f in (line.split(";") for line in lines if line)]


@pytest.mark.parametrize("name", PS2024_NAMES)
def test_ps2024_real_file_every_row_is_a_reading_with_its_register(name: str) -> None:
    path = ps2024_file(name)
    expected = _independent_ps2024_rows(path)
    name, outcomes = read(path)
    assert name == "ps2024"
    assert bad_reasons(outcomes) == []
    assert [
        (r.ts.strftime("%Y-%m-%d %H:%M:%S"), r.meter_id, r.import_wh) for r in readings(outcomes)
    ] == expected


def test_ps2024_real_files_hold_443_rows() -> None:
    counts = {name: len(_independent_ps2024_rows(ps2024_file(name))) for name in PS2024_NAMES}
    assert counts == {"test1.csv": 293, "test-q1.csv": 5, "test-q3.csv": 145}


def test_ps2024_times_are_lisbon_local(tmp_path: Path) -> None:
    path = sample(
        tmp_path, "timestamp;sensor_id;energy\n2024-02-01 00:00:00;A;5\n2024-07-01 12:00:00;A;9\n"
    )
    name, outcomes = read(path)
    assert name == "ps2024"
    assert [r.ts for r in readings(outcomes)] == [utc(2024, 2, 1), utc(2024, 7, 1, 11)]


def test_ps2024_bad_rows_are_counted(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        "2024-02-01 00:00:00;A;0\n2024-02-01 00:30:00;A;-1\n2024-02-01 01:00:00;A;\n"
        "2024-02-31 01:30:00;A;3\n2024-02-01 02:00:00;A;4;5\n2024-02-01 02:30:00;A;5\n",
    )
    _, outcomes = read(path)
    assert bad_reasons(outcomes) == [
        (2, "negative_energy"),
        (3, "missing_value"),
        (4, "bad_timestamp"),
        (5, "wrong_column_count"),
    ]
    assert len(readings(outcomes)) == 2


# --- UCI -----------------------------------------------------------------------------


def test_uci_real_file_every_row_is_counted() -> None:
    path = uci_file()
    data_lines = path.read_bytes().splitlines()[1:]  # counted without the csv module
    name, outcomes = read(path)
    assert name == "uci"
    assert len(data_lines) == 37_283
    assert len(outcomes) == len(data_lines)
    assert bad_reasons(outcomes) == []  # this excerpt has no "?" rows
    assert [o.line_no for o in outcomes] == list(range(2, len(data_lines) + 2))


def test_uci_real_file_values_and_its_two_three_minute_jumps() -> None:
    _, outcomes = read(uci_file())
    got = readings(outcomes)
    first = got[0]
    assert (first.meter_id, first.ts) == ("UCI-1", utc(2006, 12, 16, 16, 24))  # CET = UTC+1
    assert first.voltage_v == (234.84,) and first.current_a == (18.4,)
    assert first.import_wh == pytest.approx(4.216 * 1000 / 60)
    assert got[-1].ts == utc(2007, 1, 11, 13, 50)
    jumps = [(a.ts, b.ts) for a, b in itertools.pairwise(got) if (b.ts - a.ts).seconds != 60]
    assert [(b - a).seconds for a, b in jumps] == [180, 180]
    assert all(226 <= r.voltage_v[0] <= 253 for r in got if r.voltage_v)
    assert all(b.import_wh >= a.import_wh for a, b in itertools.pairwise(got))


def test_uci_question_marks_are_bad_rows_with_reason(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        f"{UCI_HEADER}\r\n"
        "28/4/2007;00:20:00;0.300;0.100;240.000;1.200;0.000;0.000;0.000\r\n"
        "28/4/2007;00:21:00;?;?;?;?;?;?;\r\n"
        "28/4/2007;00:22:00;0.600;0.100;?;2.400;0.000;0.000;0.000\r\n"
        "28/4/2007;00:23:00;0.600 ;0.100;241.000;2.400;0.000;0.000;1.000 \r\n",
    )
    _, outcomes = read(path)
    assert bad_reasons(outcomes) == [(3, "missing_value"), (4, "missing_value")]
    assert [o.bad.detail for o in outcomes if o.bad] == [
        "global_active_power is '?'",
        "voltage is '?'",
    ]
    assert [r.import_wh for r in readings(outcomes)] == [pytest.approx(5.0), pytest.approx(15.0)]


def test_uci_day_first_dates_without_zero_padding(tmp_path: Path) -> None:
    path = sample(
        tmp_path,
        f"{UCI_HEADER}\n11/1/2007;14:48:00;0.232;0.052;243.990;1.000;0.000;0.000;0.000\n"
        "1/13/2007;14:49:00;0.232;0.052;243.990;1.000;0.000;0.000;0.000\n"
        "2/1/2007;14:50:00;0.232;0.052;243.990;1.000;0.000;0.000\n",
    )
    _, outcomes = read(path, options=FormatOptions(meter_id="HOUSE-9"))
    assert [(r.meter_id, r.ts) for r in readings(outcomes)] == [
        ("HOUSE-9", utc(2007, 1, 11, 13, 48))
    ]
    assert bad_reasons(outcomes) == [(3, "bad_timestamp"), (4, "wrong_column_count")]


def test_uci_voltage_outside_the_reading_limits_is_an_invalid_reading(tmp_path: Path) -> None:
    path = sample(tmp_path, f"{UCI_HEADER}\n1/1/2007;00:00:00;1.0;0.0;1200.0;1.0;0;0;0\n")
    _, outcomes = read(path)
    assert bad_reasons(outcomes) == [(2, "invalid_reading")]


# --- detection and streaming ---------------------------------------------------------


def test_a_file_in_no_known_format_is_refused_with_its_first_line() -> None:
    with pytest.raises(ReplayError, match=r"tariff.csv:1: no known format"):
        resolve_format(ps2024_file("tariff.csv"))


def test_a_byte_order_mark_does_not_hide_the_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfLCLid,tstp,energy(kWh/hh)\nMAC1,2012-01-01 00:30:00,0.1\n")
    name, outcomes = read(path)
    assert (name, len(readings(outcomes))) == ("lcl-tstp", 1)


def test_reader_streams_the_file_instead_of_loading_it(tmp_path: Path) -> None:
    rows = "".join(f"M{i % 7},2024-01-01T00:{i % 60:02d}:00,0.1\n" for i in range(20_000))
    path = sample(tmp_path, "id,timestamp,kwh\n" + rows)
    reader = CsvReader(path, resolve_format(path), FormatOptions())
    stream = reader.rows()
    next(stream)
    assert 0 < reader.bytes_read < reader.size_bytes // 10
    assert sum(1 for _ in stream) == 19_999
    assert reader.bytes_read == reader.size_bytes


def test_every_row_is_either_a_reading_or_a_counted_bad_row(tmp_path: Path) -> None:
    rows = [
        f"1/1/2007;00:{m:02d}:00;{'?' if m % 3 == 0 else '1.5'};0;230;6.5;0;0;0" for m in range(60)
    ]
    path = sample(tmp_path, "\n".join([UCI_HEADER, *rows]) + "\n")
    _, outcomes = read(path)
    reasons = Counter(reason for _, reason in bad_reasons(outcomes))
    assert reasons == {"missing_value": 20}
    assert len(readings(outcomes)) + sum(reasons.values()) == len(rows)
