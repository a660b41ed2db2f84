"""ODBC access to the mart as an Excel or Power Query user has it: the README's DSN-less
connection string, with the PostgreSQL ODBC driver through unixODBC and pyodbc, and the
DSN of the templates ``python -m excel odbc`` writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from excel.odbc import DSN, dsn_connection_string
from smart_meter.odbc import odbc_driver_path
from smart_meter.settings import ConnectionSettings


def readme_odbc_string() -> str:
    """The DSN-less connection string the README tells Excel users to type."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    return next(line.strip() for line in readme.splitlines() if line.strip().startswith("Driver={"))


def odbc_connection_string(connections: ConnectionSettings) -> str:
    """The README's string, with the driver's path instead of its name and the password."""
    driver = odbc_driver_path()
    assert driver is not None, "no psqlodbcw.so: `python start_services.py up postgres`"
    text = readme_odbc_string()
    assert "Server=127.0.0.1;Port=5432;" in text
    address = f"Server={connections.postgres_host};Port={connections.postgres_port};"
    return (
        text.replace("{PostgreSQL Unicode}", f"{{{driver}}}")
        .replace("Server=127.0.0.1;Port=5432;", address)
        .replace("<password>", connections.postgres_password_value())
    )


def odbc_connect(connections: ConnectionSettings) -> Any:
    """A pyodbc connection to the mart. pyodbc loads unixODBC's ``libodbc.so.2``, which the
    stack installs with the PostgreSQL driver (``python start_services.py up postgres``) on
    a fresh machine: imported here, after the stack fixture, not when tests are collected."""
    import pyodbc  # noqa: PLC0415

    return pyodbc.connect(odbc_connection_string(connections), autocommit=True)


DSN_QUERY = """
import json, os, sys
import pyodbc
connection = pyodbc.connect(os.environ["MART_DSN"], autocommit=True)
rows = connection.cursor().execute(sys.argv[1], *json.loads(sys.argv[2])).fetchall()
print(json.dumps([[str(value) for value in row] for row in rows]))
"""


def odbc_environment(connections: ConnectionSettings, folder: Path) -> dict[str, str]:
    """``python -m excel odbc -o folder`` run for this mart; the environment that points
    unixODBC at the files it wrote (as the README's Linux steps do)."""
    env = {
        **os.environ,
        "SMART_METER_POSTGRES_HOST": connections.postgres_host,
        "SMART_METER_POSTGRES_PORT": str(connections.postgres_port),
        "SMART_METER_POSTGRES_DATABASE": connections.postgres_database,
        "SMART_METER_POSTGRES_USER": connections.postgres_user,
    }
    written = subprocess.run(
        [sys.executable, "-m", "excel", "odbc", "-o", str(folder)],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    return {**env, "ODBCSYSINI": str(folder), "ODBCINI": str(folder / "odbc.ini")}


def dsn_rows(
    connections: ConnectionSettings, folder: Path, query: str, *params: object
) -> list[list[str]]:
    """``query``'s rows (as text) through the DSN ``smart_meter_mart`` of the templates,
    in a process of its own: unixODBC reads ``ODBCSYSINI`` once per process."""
    env = {**odbc_environment(connections, folder), "MART_DSN": dsn_connection_string(connections)}
    result = subprocess.run(
        [sys.executable, "-c", DSN_QUERY, query, json.dumps([str(p) for p in params])],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows: list[list[str]] = json.loads(result.stdout)
    return rows


def isql_lines(connections: ConnectionSettings, folder: Path, query: str) -> list[str]:
    """``query`` through unixODBC's ``isql`` on the DSN, as a Linux user checks it."""
    env = odbc_environment(connections, folder)
    result = subprocess.run(
        ["isql", "-b", "-d,", DSN, connections.postgres_user,
         connections.postgres_password_value()],
        input=query + "\n", capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.strip()]
