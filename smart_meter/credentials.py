"""Client credentials: a username and a password file per server, as Docker secrets are mounted.

Each client (NATS, Cassandra, InfluxDB, PostgreSQL) reads ``SMART_METER_<SERVER>_USERNAME``
and ``SMART_METER_<SERVER>_PASSWORD_FILE`` (see :class:`smart_meter.settings.ConnectionSettings`).
Both unset: the client connects without credentials (the local stack, loopback only). Both
set: the file's content (one line) is the password. Anything in between, an empty file or one
that cannot be read, is a :class:`CredentialsError` whose message is one line saying what to
fix; services check every credential at start-up and refuse to start on one.
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn


class CredentialsError(ValueError):
    """A half-set, empty or unreadable credential; the message says which and how to fix it."""

    def __init__(self, server: str, problem: str) -> None:
        self.server, self.problem = server, problem
        prefix = f"SMART_METER_{server.upper()}"
        super().__init__(
            f"{server} credentials: {problem}; set both {prefix}_USERNAME and "
            f"{prefix}_PASSWORD_FILE (a file holding the password), or neither"
        )


@dataclass(frozen=True)
class Credentials:
    """A username and its password (kept out of ``repr``)."""

    username: str
    password: str = field(repr=False)


def read_credentials(
    server: str, username: str | None, password_file: Path | None
) -> Credentials | None:
    """The credentials of ``server``, ``None`` when neither part is set."""
    if not username and password_file is None:
        return None
    if not username:
        raise CredentialsError(server, f"a password file ({password_file}) but no username")
    if password_file is None:
        raise CredentialsError(server, f"a username ({username}) but no password file")
    try:
        password = password_file.read_text().strip()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise CredentialsError(
            server, f"password file {password_file} unreadable ({reason})"
        ) from None
    if not password:
        raise CredentialsError(server, f"password file {password_file} is empty")
    return Credentials(username, password)


def basic_auth_headers(credentials: Credentials | None) -> dict[str, str]:
    """HTTP headers carrying ``credentials`` (InfluxDB 1.x takes Basic auth); none if unset."""
    if credentials is None:
        return {}
    pair = f"{credentials.username}:{credentials.password}".encode()
    return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}


def refuse_to_start(error: CredentialsError) -> NoReturn:
    """Print the one line and exit 2: what a service does with a bad credential at start-up."""
    print(f"error: {error}", file=sys.stderr)
    raise SystemExit(2)
