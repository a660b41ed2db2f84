"""The mart's frame check: a bad batch result is one clear error before anything is written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from batch_app.mart import (
    TABLES,
    MartError,
    MartFrameError,
    MartFrames,
    MartRangeError,
    MartUnreachableError,
    RefreshWindow,
    refresh_mart,
)
from batch_app.mart.ddl import VIEWS, table_statements
from batch_app.mart.frames import all_rows, table_rows
from batch_app.mart.tables import ALERTS, GAPS, METER_DAILY, METER_MONTHLY
from smart_meter.settings import ConnectionSettings
from tests.conftest import free_port
from tests.mart_examples import example_frames, with_frame

JANUARY = RefreshWindow(date(2024, 1, 1), date(2024, 1, 31))


def nowhere(tmp_path: Path) -> ConnectionSettings:
    """Settings of a PostgreSQL that is not there (a free port), with a password."""
    secret = tmp_path / "password"
    secret.write_text("not-used\n")
    return ConnectionSettings(postgres_port=free_port(), postgres_password_file=secret)


def test_frames_have_one_field_per_mart_table() -> None:
    assert [f.name for f in dataclasses.fields(MartFrames)] == [t.name for t in TABLES]


def test_example_frames_pass_the_check_with_every_row() -> None:
    frames = example_frames(date(2024, 1, 30), date(2024, 1, 31))
    rows = all_rows(frames, JANUARY)
    assert len(rows["meter_daily"]) == 6
    assert len(rows["gaps"]) == 3


def test_missing_column_is_refused_naming_table_and_column() -> None:
    frames = example_frames(date(2024, 1, 1), date(2024, 1, 2))
    broken = with_frame(frames, "meter_daily", frames.meter_daily.drop(columns=["cost"]))
    with pytest.raises(MartFrameError) as caught:
        all_rows(broken, JANUARY)
    assert caught.value.table == "meter_daily"
    assert caught.value.columns == ("cost",)
    assert str(caught.value).startswith("mart frame meter_daily: missing column(s) cost;")
    assert "\n" not in str(caught.value)


def test_bad_frame_is_refused_before_postgres_is_contacted(tmp_path: Path) -> None:
    frames = example_frames(date(2024, 1, 1), date(2024, 1, 2))
    broken = with_frame(frames, "alerts", frames.alerts.drop(columns=["kind"]))
    with pytest.raises(MartFrameError, match="mart frame alerts: missing column"):
        refresh_mart(nowhere(tmp_path), broken, date(2024, 1, 1), date(2024, 1, 2))


def test_extra_columns_are_ignored() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_daily
    assert table_rows(METER_DAILY, frame.assign(note="x"), JANUARY) == table_rows(
        METER_DAILY, frame, JANUARY
    )


def test_row_outside_the_refresh_range_is_refused() -> None:
    frame = example_frames(date(2023, 12, 31), date(2024, 1, 1)).meter_daily
    with pytest.raises(MartFrameError, match=r"3 row\(s\) outside the refresh range 2024-01-01"):
        table_rows(METER_DAILY, frame, JANUARY)


def test_monthly_rows_of_every_month_the_range_touches_are_accepted() -> None:
    window = RefreshWindow(date(2024, 1, 15), date(2024, 2, 3))
    frame = example_frames(window.first_day, window.last_day).meter_monthly
    months = {row[1] for row in table_rows(METER_MONTHLY, frame, window)}
    assert months == {date(2024, 1, 1), date(2024, 2, 1)}


def test_month_that_is_not_the_first_of_a_month_is_refused() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_monthly
    frame["month"] = date(2024, 1, 15)
    with pytest.raises(MartFrameError, match=r"column month .* a month is the first day"):
        table_rows(METER_MONTHLY, frame, JANUARY)


def test_key_given_twice_is_refused() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_daily
    with pytest.raises(MartFrameError, match=r"key \(meter_id, day\) = .* appears twice"):
        table_rows(METER_DAILY, pd.concat([frame, frame.iloc[:1]]), JANUARY)


def test_empty_value_in_a_required_column_is_refused_but_allowed_where_nullable() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_daily
    frame.loc[1, "transformer_id"] = None
    assert table_rows(METER_DAILY, frame, JANUARY)[1][2] is None
    frame.loc[1, "energy_mwh"] = None
    with pytest.raises(MartFrameError, match=r"column energy_mwh has 1 empty value\(s\)"):
        table_rows(METER_DAILY, frame, JANUARY)


def test_fraction_in_a_count_column_is_refused() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_daily
    frame["readings"] = frame["readings"] + 0.5
    with pytest.raises(MartFrameError, match=r"column readings .* not a whole number"):
        table_rows(METER_DAILY, frame, JANUARY)


def test_float_cost_is_written_as_the_decimal_it_prints_as() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).meter_daily
    frame["cost"] = 0.1
    assert table_rows(METER_DAILY, frame, JANUARY)[0][6] == Decimal("0.1")


def test_day_with_a_time_of_day_is_refused() -> None:
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).alerts
    frame["day"] = datetime(2024, 1, 1, 12, 0)
    with pytest.raises(MartFrameError, match=r"column day .* holds a time of day"):
        table_rows(ALERTS, frame, JANUARY)


def test_naive_times_are_utc_and_gaps_belong_to_the_local_day_they_start_on() -> None:
    paris = RefreshWindow(date(2024, 1, 2), date(2024, 1, 2), "Europe/Paris")
    frame = example_frames(date(2024, 1, 1), date(2024, 1, 1)).gaps
    frame["start_ts"] = datetime(2024, 1, 1, 23, 30)  # 00:30 on 2 January in Paris
    frame["meter_id"] = ["M0000001", "M0000002"]
    rows = table_rows(GAPS, frame, paris)
    assert rows[0][1] == datetime(2024, 1, 1, 23, 30, tzinfo=UTC)
    with pytest.raises(MartFrameError, match="outside the refresh range"):
        table_rows(GAPS, frame, RefreshWindow(date(2024, 1, 1), date(2024, 1, 1), "Europe/Paris"))


def test_range_whose_last_day_is_before_its_first_is_refused() -> None:
    with pytest.raises(MartRangeError, match="range is empty: last day 2024-01-01 is before"):
        RefreshWindow(date(2024, 1, 2), date(2024, 1, 1))


def test_unreachable_postgres_is_one_line_that_says_how_to_start_it(tmp_path: Path) -> None:
    settings = nowhere(tmp_path)
    with pytest.raises(MartUnreachableError) as caught:
        refresh_mart(settings, MartFrames.empty(), date(2024, 1, 1), date(2024, 1, 1))
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL is unreachable at 127.0.0.1:{settings.postgres_port}")
    assert "python start_services.py up postgres" in message
    assert "\n" not in message


def test_missing_password_is_one_line_that_says_how_to_give_one() -> None:
    with pytest.raises(MartError) as caught:
        refresh_mart(
            ConnectionSettings(postgres_port=free_port()),
            MartFrames.empty(),
            date(2024, 1, 1),
            date(2024, 1, 1),
        )
    assert "PostgreSQL password is not set: set SMART_METER_POSTGRES_PASSWORD" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_table_and_view_column_has_a_comment_for_spreadsheet_users() -> None:
    for table in TABLES:
        text = " ".join(s.as_string(None) for s in table_statements(table))
        for column in table.columns:
            assert f'COMMENT ON COLUMN "mart"."{table.name}"."{column.name}"' in text
        assert f'COMMENT ON TABLE "mart"."{table.name}"' in text
    assert {view.name for view in VIEWS} >= {"meter_monthly_bill", "data_dictionary"}
