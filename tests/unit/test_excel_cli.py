"""``python -m excel``'s one-line errors and its ODBC templates (no server: the unreachable
Cassandra is a port nothing listens on)."""

from __future__ import annotations

import configparser
import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from excel.cli import main
from excel.odbc import DSN, dsn_connection_string, write_templates
from excel.progress import LARGE_EXPORT_PARTITIONS, ExportProgress
from smart_meter.settings import ConnectionSettings, PostgresPasswordError


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(stream: str) -> str:
    lines = stream.strip().splitlines()
    assert len(lines) == 1, stream
    assert "Traceback" not in stream
    return lines[0]


def export_args(meters: str, first: str, last: str | None = "2024-01-02") -> list[str]:
    days = ["--from", first] + (["--to", last] if last else [])
    return ["export", "--meters", meters, *days, "-o", "x.xlsx"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (export_args("M1", "2024-13-01"), "not a day (YYYY-MM-DD): '2024-13-01'"),
        (export_args("all,M1", "2024-01-01"), "'all' stands alone"),
        (export_args(" , ", "2024-01-01"), "give meter ids separated by commas"),
        (export_args("M1", "2024-01-01", None), "the following arguments are required: --to"),
    ],
)
def test_a_wrong_option_is_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert expected in one_line(capsys.readouterr().err)


def test_a_range_that_ends_before_it_starts_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(export_args("M1", "2024-01-05", "2024-01-02"))
    assert code == 1
    assert one_line(capsys.readouterr().err) == "excel: --to 2024-01-02 is before --from 2024-01-05"


def test_an_unreachable_cassandra_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    port = closed_port()
    result = subprocess.run(
        [sys.executable, "-m", "excel", "export", "--meters", "M1", "--from", "2024-01-01",
         "--to", "2024-01-01", "-o", str(tmp_path / "out.xlsx")],
        capture_output=True, text=True, timeout=300, check=False,
        env={"SMART_METER_CASSANDRA_PORT": str(port), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith(f"excel: cannot reach Cassandra at 127.0.0.1:{port}")
    assert "python start_services.py up" in line
    assert not (tmp_path / "out.xlsx").exists()


def test_odbc_templates_name_the_driver_and_the_mart_and_hold_no_password(
    tmp_path: Path,
) -> None:
    connections = ConnectionSettings(postgres_password="s3cret-value", postgres_port=5433)
    driver = tmp_path / "psqlodbcw.so"
    files = write_templates(connections, tmp_path / "odbc", driver)
    assert [p.name for p in files.written] == [
        "odbcinst.ini", "odbc.ini", f"{DSN}.dsn", "cassandra-simba.dsn",
    ]  # fmt: skip
    for path in files.written:
        assert "s3cret-value" not in path.read_text()
        assert "pwd" not in path.read_text().lower()
    odbcinst, dsns = configparser.ConfigParser(), configparser.ConfigParser()
    odbcinst.read(files.odbcinst)
    dsns.read(files.odbc_ini)
    assert odbcinst["PostgreSQL Unicode"]["Driver"] == str(driver)
    assert dsns[DSN]["Driver"] == "PostgreSQL Unicode"
    assert (dsns[DSN]["Port"], dsns[DSN]["Database"]) == ("5433", "smart_meter_mart")
    simba = configparser.ConfigParser()
    simba.read(tmp_path / "odbc" / "cassandra-simba.dsn")
    assert simba["ODBC"]["Port"] == "9042"
    assert simba["ODBC"]["AuthMech"] == "0"


def test_the_dsn_connection_string_takes_the_password_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-the-file\n")
    connections = ConnectionSettings(postgres_password_file=secret)
    assert dsn_connection_string(connections) == f"DSN={DSN};UID=smart_meter;PWD=from-the-file"
    with pytest.raises(PostgresPasswordError):
        dsn_connection_string(ConnectionSettings(postgres_password_file=tmp_path / "none"))


def test_odbc_without_a_driver_writes_the_templates_and_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("excel.odbc.odbc_driver_path", lambda: None)
    monkeypatch.setenv("SMART_METER_POSTGRES_HOST", "mart.example")
    assert main(["odbc", "-o", str(tmp_path)]) == 0
    said = capsys.readouterr().out
    assert (
        "apt-get install odbc-postgresql unixodbc" in said
        or Path("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so").exists()
    )
    assert "Servername = mart.example" in (tmp_path / "odbc.ini").read_text()
    assert (
        "Driver = /usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"
        in (tmp_path / "odbcinst.ini").read_text()
    )


def drawn(partitions: int, quiet: bool = False) -> str:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with ExportProgress(quiet=quiet, console=console) as progress:
        progress.start(partitions)
        progress.advance(partitions)
    return screen.getvalue()


def test_a_large_export_shows_its_progress_and_a_small_or_quiet_one_does_not() -> None:
    large = LARGE_EXPORT_PARTITIONS
    assert "reading Cassandra" in drawn(large)
    assert f"{large}/{large}" in drawn(large)
    assert drawn(large - 1) == ""
    assert drawn(large * 10, quiet=True) == ""
