"""PostgreSQL 15 from Debian's ``postgresql-15``: the reporting mart that Excel and ODBC read.

PostgreSQL refuses to run as root, so when the project runs as root the cluster belongs
to the ``postgres`` system user (made by the Debian package): its data folder under the
state folder is owned by that user, and ``initdb``/``postgres`` run through ``setpriv``,
which changes user and then *execs* the server, so the recorded pid is the postmaster's.

The role ``smart_meter`` gets a generated password (``secrets.token_urlsafe``) kept in
``<state>/secrets/postgres_password`` (mode 0600, git-ignored with the state folder);
the role and the database ``smart_meter_mart`` are made in single-user mode right after
``initdb``, and the password is set again from that file before every start. The server
listens on TCP on loopback only (no Unix socket), password (SCRAM) authentication only.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

import psutil
import psycopg

from smart_meter.odbc import odbc_driver_path
from stack.base import LocalService, run_checked, wait_for_exit
from stack.errors import StackError
from stack.settings import StackSettings, connections_for

APT_PACKAGES = ("postgresql-15", "odbc-postgresql", "unixodbc")
SYSTEM_USER = "postgres"


def ensure_password_file(path: Path) -> str:
    """The generated password in ``path``; made (0600, folder 0700) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as secret:
            secret.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


class PostgresService(LocalService):
    """One PostgreSQL 15 cluster on loopback holding the database of the reporting mart."""

    name = "postgres"
    start_timeout_s = 60.0

    def __init__(self, settings: StackSettings) -> None:
        super().__init__(settings)
        self.connections = connections_for(settings)

    def ports(self) -> list[int]:
        return [self.settings.postgres_port]

    def binary(self, program: str) -> Path:
        return self.settings.postgres_bin_dir / program

    @property
    def config_file(self) -> Path:
        return self.service_dir / "postgresql.conf"

    @property
    def hba_file(self) -> Path:
        return self.service_dir / "pg_hba.conf"

    # ---- install ------------------------------------------------------------------
    def missing(self) -> list[str]:
        """What of the server, its system user and the ODBC driver this machine lacks."""
        parts = [str(self.binary(p)) for p in ("postgres", "initdb") if not self.binary(p).exists()]
        if os.geteuid() == 0 and not _user_exists(SYSTEM_USER):
            parts.append(f"the {SYSTEM_USER} system user")
        if odbc_driver_path() is None:
            parts.append("the PostgreSQL ODBC driver (psqlodbcw.so)")
        return parts

    def install(self) -> None:
        """``apt-get install`` the three packages when anything is missing (never upgrading)."""
        missing = self.missing()
        if not missing:
            return
        packages = " ".join(APT_PACKAGES)
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise StackError(
                f"postgres: missing {', '.join(missing)}; install them with "
                f"`sudo apt-get install -y {packages}` (Debian 12)"
            )
        apt = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
        run_checked([*apt, "update"], "postgres: apt-get update")
        run_checked(
            [*apt, "install", "-y", "--no-upgrade", *APT_PACKAGES],
            f"postgres: apt-get install {packages}",
        )

    # ---- configure ----------------------------------------------------------------
    def prepare(self) -> None:
        """initdb and bootstrap on an empty folder; write config; set the role's password."""
        self.hba_file.write_text(HBA)
        self.config_file.write_text(
            CONFIG_TEMPLATE.format(
                host=self.host,
                port=self.settings.postgres_port,
                hba=self.hba_file,
                ident=self.data_dir / "pg_ident.conf",
            )
        )
        password = ensure_password_file(self.settings.postgres_password_file)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initialise(password)
        self._single_user([_set_password(self.connections.postgres_user, password)], password)

    def _initialise(self, password: str) -> None:
        """A fresh cluster with the mart's role and database; nothing left if it fails."""
        self._hand_over(self.data_dir)
        _empty(self.data_dir)  # a half-made cluster of a failed first up
        try:
            run_checked(
                [*self._as_owner(), str(self.binary("initdb")), "-D", str(self.data_dir),
                 "-U", SYSTEM_USER, "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                "postgres: initdb",
                timeout_s=300,
            )  # fmt: skip
            user, database = self.connections.postgres_user, self.connections.postgres_database
            self._single_user(
                [
                    f"CREATE ROLE {_identifier(user)} LOGIN",
                    _set_password(user, password),
                    f"CREATE DATABASE {_identifier(database)} OWNER {_identifier(user)}",
                ],
                password,
            )
        except (StackError, subprocess.TimeoutExpired):
            _empty(self.data_dir)
            raise

    def _single_user(self, statements: list[str], password: str) -> None:
        """Run statements in single-user mode (no server, no port): one line each."""
        argv = [
            *self._as_owner(),
            str(self.binary("postgres")),
            "--single",
            "-D",
            str(self.data_dir),
        ]
        result = subprocess.run(
            [*argv, "-c", "log_min_error_statement=panic", "postgres"],
            input="\n".join(statements) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.service_dir,
            env=self.environment(),
            check=False,
        )
        output = (result.stdout + result.stderr).replace(password, "***")
        errors = [line for line in output.splitlines() if "ERROR:" in line or "FATAL:" in line]
        if result.returncode != 0 or errors:
            detail = " | ".join(errors[-3:] or output.strip().splitlines()[-3:])
            raise StackError(f"postgres: single-user bootstrap failed: {detail}")

    def _hand_over(self, folder: Path) -> None:
        """Give the data folder to the server's user, private (PostgreSQL insists on 0700)."""
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(folder, account.pw_uid, account.pw_gid)
            # a real write, not test -w: access(2) drops capabilities for other users
            probe = f'touch "{folder}/.probe" && rm "{folder}/.probe"'
            result = subprocess.run([*self._as_owner(), "sh", "-c", probe], check=False)
            if result.returncode != 0:
                raise StackError(
                    f"postgres: the {SYSTEM_USER} user cannot reach {folder} (a parent folder is "
                    "not searchable by others); set SMART_METER_STATE_DIR to a folder it can reach"
                )
        folder.chmod(0o700)

    def _as_owner(self) -> list[str]:
        """The prefix that runs a program as the cluster's owner (none unless we are root).

        A state folder under a private parent (a checkout in ``/root``, say) is out of the
        ``postgres`` user's reach; then, and only then, the server gets the one capability
        to search folders (``CAP_DAC_READ_SEARCH``, ambient) so that it can reach its own."""
        if os.geteuid() != 0:
            return []
        if shutil.which("setpriv") is None:
            raise StackError("postgres: setpriv is missing; install util-linux")
        owner = ["setpriv", f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups"]
        if not self._reachable(owner):
            owner += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        return [*owner, "--"]

    def _reachable(self, owner: list[str]) -> bool:
        """Whether the server's user can search its way to the state folder as it is."""
        folder = self.settings.state_dir
        folder.mkdir(parents=True, exist_ok=True)
        # stat(1) needs search on every parent (test -x would use access(2), see above)
        probe = subprocess.run(
            [*owner, "--", "stat", str(folder)], check=False, capture_output=True
        )
        return probe.returncode == 0

    # ---- run ----------------------------------------------------------------------
    def command(self) -> list[str]:
        return [
            *self._as_owner(),
            str(self.binary("postgres")),
            "-D",
            str(self.data_dir),
            "-c",
            f"config_file={self.config_file}",
        ]

    def environment(self) -> dict[str, str]:
        # libpq and the server read PG* variables; the configuration file alone decides here.
        return {key: value for key, value in os.environ.items() if not key.startswith("PG")}

    def check_health(self) -> str:
        settings = self.connections
        with psycopg.connect(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.postgres_database,
            user=settings.postgres_user,
            password=settings.postgres_password_value(),
            connect_timeout=3,
        ) as connection:
            row = connection.execute("SELECT current_setting('server_version')").fetchone()
        version = str(row[0]).split(" ")[0] if row else "unknown"
        return f"PostgreSQL {version}, database {settings.postgres_database}"

    def stop(self) -> bool:
        """Fast shutdown (SIGINT: sessions rolled back, a checkpoint, exit), then the group."""
        process: psutil.Process | None = self.running_process()
        if process is not None:
            process.send_signal(signal.SIGINT)
            wait_for_exit(process, timeout_s=self.stop_timeout_s)
        return super().stop() or process is not None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _empty(folder: Path) -> None:
    for entry in folder.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _set_password(user: str, password: str) -> str:
    literal = "'" + password.replace("'", "''") + "'"
    return f"ALTER ROLE {_identifier(user)} WITH LOGIN PASSWORD {literal}"


HBA = """\
# Written by stack/postgres.py on every start. TCP from this machine, SCRAM passwords only.
# TYPE  DATABASE  USER  ADDRESS   METHOD
host    all       all   samehost  scram-sha-256
"""

CONFIG_TEMPLATE = """\
# Written by stack/postgres.py on every start.
listen_addresses = '{host}'
port = {port}
unix_socket_directories = ''
hba_file = '{hba}'
ident_file = '{ident}'
max_connections = 40
shared_buffers = 128MB
password_encryption = 'scram-sha-256'
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
datestyle = 'iso, ymd'
lc_messages = 'C'
"""
