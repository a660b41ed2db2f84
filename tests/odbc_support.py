"""ODBC access to the mart as an Excel or Power Query user has it: the README's DSN-less
connection string, with the PostgreSQL ODBC driver through unixODBC and pyodbc."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smart_meter.settings import ConnectionSettings
from stack.postgres import odbc_driver_path


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
