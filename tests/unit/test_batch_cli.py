"""The batch command line: a wrong option or a missing server is one line, before Spark."""

from __future__ import annotations

from datetime import date

import pytest

from batch_app.api import run_app_batch
from batch_app.cli import main
from batch_app.errors import BatchError, ServiceUnreachableError
from batch_app.settings import BatchSettings
from smart_meter.spark.session import check_master
from tests.conftest import free_port

DAY = date(2024, 3, 1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["energy", "--from", "2024-02-30", "--to", "2024-03-01"], "not a date (YYYY-MM-DD)"),
        (["energy", "--to", "2024-03-01"], "the following arguments are required: --from"),
        (["bill", "--from", "2024-03-01", "--to", "2024-03-01"], "invalid choice: 'bill'"),
        (["energy", "--from", "2024-03-01", "--to", "2024-03-01", "--meters", ","], "meter id"),
    ],
)
def test_a_wrong_option_is_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_range_backwards_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["energy", "--from", "2024-03-02", "--to", "2024-03-01"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "batch_app: --to 2024-03-01 is before --from 2024-03-02"


def test_cassandra_down_is_one_line_that_says_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_METER_CASSANDRA_PORT", str(free_port()))
    assert main(["energy", "--from", "2024-03-01", "--to", "2024-03-01", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("batch_app: Cassandra is unreachable at 127.0.0.1:")
    assert "python start_services.py up" in err
    assert len(err.splitlines()) == 1


def test_a_spark_master_that_is_not_there_is_one_line() -> None:
    port = free_port()
    with pytest.raises(ServiceUnreachableError) as error:
        check_master(f"spark://127.0.0.1:{port}")
    assert str(error.value).startswith(f"the Spark master is unreachable at 127.0.0.1:{port}")
    assert "--master 'local[2]'" in str(error.value)


def test_an_unknown_zone_and_an_unknown_job_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        BatchSettings(time_zone="Europe/Atlantis")
    with pytest.raises(BatchError, match="unknown job 'bill'"):
        run_app_batch("bill", DAY, DAY, quiet=True)


def test_postgres_down_stops_a_mart_run_before_spark_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_METER_POSTGRES_PORT", str(free_port()))
    assert main(["mart", "--from", "2024-03-01", "--to", "2024-03-01", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("batch_app: PostgreSQL is unreachable at 127.0.0.1:")
    assert err.endswith("start it with `python start_services.py up postgres`")
