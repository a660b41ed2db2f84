"""ODBC templates for analysts: the reporting mart in PostgreSQL through the open-source
psqlODBC driver, and Cassandra through Simba's commercial driver for those who have it.

``python -m excel odbc -o DIR`` writes:

- ``odbcinst.ini``: the driver ``PostgreSQL Unicode`` (the installed ``psqlodbcw.so``);
- ``odbc.ini``: the DSN ``smart_meter_mart`` on the mart (host, port, database, user from
  ``SMART_METER_POSTGRES_*``), read-only;
- ``smart_meter_mart.dsn``: the same as a Windows File DSN for Excel;
- ``cassandra-simba.dsn``: a File DSN for the Simba Cassandra ODBC driver (a licence of
  Simba's; no open-source Cassandra ODBC driver exists).

None of them holds a password: the connection is given it at connect time (Excel asks
for it; :func:`dsn_connection_string` reads it from ``SMART_METER_POSTGRES_PASSWORD`` or
the file ``SMART_METER_POSTGRES_PASSWORD_FILE`` names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from excel.errors import ExcelError
from smart_meter.odbc import ODBC_DRIVER_CANDIDATES, odbc_driver_path
from smart_meter.settings import ConnectionSettings

DSN = "smart_meter_mart"
DRIVER = "PostgreSQL Unicode"
WINDOWS_DRIVER = "PostgreSQL Unicode(x64)"
SIMBA_DRIVER = "Simba Cassandra ODBC Driver"


@dataclass(frozen=True)
class OdbcFiles:
    """The files written and the folder they are in."""

    folder: Path
    written: tuple[Path, ...]
    driver: Path

    @property
    def odbcinst(self) -> Path:
        return self.folder / "odbcinst.ini"

    @property
    def odbc_ini(self) -> Path:
        return self.folder / "odbc.ini"


def odbcinst_ini(driver: Path) -> str:
    return (
        f"[{DRIVER}]\n"
        "Description = PostgreSQL ODBC driver, Unicode (Debian: odbc-postgresql)\n"
        f"Driver = {driver}\n"
        "FileUsage = 1\n"
    )


def odbc_ini(connections: ConnectionSettings) -> str:
    return (
        f"[{DSN}]\n"
        "Description = smart-meter reporting mart (PostgreSQL); password given at connect time\n"
        f"Driver = {DRIVER}\n"
        f"Servername = {connections.postgres_host}\n"
        f"Port = {connections.postgres_port}\n"
        f"Database = {connections.postgres_database}\n"
        f"Username = {connections.postgres_user}\n"
        "ReadOnly = 1\n"
    )


def mart_file_dsn(connections: ConnectionSettings) -> str:
    """A Windows File DSN (Excel: Data > Get Data > From ODBC, or Microsoft Query)."""
    return (
        "[ODBC]\n"
        f"DRIVER={WINDOWS_DRIVER}\n"
        f"SERVER={connections.postgres_host}\n"
        f"PORT={connections.postgres_port}\n"
        f"DATABASE={connections.postgres_database}\n"
        f"UID={connections.postgres_user}\n"
        "READONLY=1\n"
    )


def simba_cassandra_dsn(connections: ConnectionSettings) -> str:
    """A File DSN for Simba's Cassandra ODBC driver, as the platform's first version used;
    no user or password (add ``AuthMech=1`` and ``UID`` where Cassandra has logins)."""
    return (
        "[ODBC]\n"
        f"DRIVER={SIMBA_DRIVER}\n"
        f"Host={','.join(connections.cassandra_hosts)}\n"
        f"Port={connections.cassandra_port}\n"
        f"DefaultKeyspace={connections.cassandra_keyspace}\n"
        "AuthMech=0\n"
    )


def dsn_connection_string(connections: ConnectionSettings, dsn: str = DSN) -> str:
    """``DSN=...;UID=...;PWD=...`` with the password from the environment or its file."""
    password = connections.postgres_password_value()
    return f"DSN={dsn};UID={connections.postgres_user};PWD={password}"


def write_templates(
    connections: ConnectionSettings, folder: Path, driver: Path | None = None
) -> OdbcFiles:
    """The four files in ``folder`` (made if missing); the installed driver if not given,
    else where ``odbc-postgresql`` puts it on x86_64 (the templates are for other machines
    too: a Windows user needs only the ``.dsn``)."""
    driver = driver or odbc_driver_path() or ODBC_DRIVER_CANDIDATES[0]
    contents = {
        "odbcinst.ini": odbcinst_ini(driver),
        "odbc.ini": odbc_ini(connections),
        f"{DSN}.dsn": mart_file_dsn(connections),
        "cassandra-simba.dsn": simba_cassandra_dsn(connections),
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            (folder / name).write_text(text)
    except OSError as error:
        raise ExcelError(f"cannot write ODBC templates to {folder}: {error.strerror}") from None
    return OdbcFiles(folder, tuple(folder / name for name in contents), driver)


def how_to_use(files: OdbcFiles, connections: ConnectionSettings, driver: Path) -> str:
    """What to type next, with unixODBC."""
    missing = (
        ""
        if driver.exists()
        else (f"note: {driver} is not installed here: `apt-get install odbc-postgresql unixodbc`\n")
    )
    return (
        f"wrote {', '.join(p.name for p in files.written)} to {files.folder}\n"
        f"{missing}"
        "use them with unixODBC:\n"
        f"  export ODBCSYSINI={files.folder} ODBCINI={files.odbc_ini}\n"
        f"  isql -v {DSN} {connections.postgres_user} "
        '"$(cat $SMART_METER_POSTGRES_PASSWORD_FILE)"\n'
        "Excel on Windows: install psqlODBC, then Data > Get Data > From ODBC, "
        f"DSN from {DSN}.dsn (README: Excel and ODBC)"
    )
