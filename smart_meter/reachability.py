"""Is a server there? One clear line, before a job spends seconds starting, when not."""

from __future__ import annotations

import socket

CONNECT_TIMEOUT_S = 5.0


class ServiceUnreachableError(ConnectionError):
    """Cassandra, InfluxDB, PostgreSQL or a Spark master does not answer; the message is
    the one line the user sees, with what to do about it."""

    def __init__(self, service: str, address: str, hint: str) -> None:
        super().__init__(f"{service} is unreachable at {address}: {hint}")
        self.service, self.address, self.hint = service, address, hint


def check_reachable(service: str, host: str, port: int, hint: str) -> None:
    """Raise :class:`ServiceUnreachableError` unless ``host:port`` accepts a connection."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return
    except OSError as error:
        reason = f"{error.strerror or error}; {hint}"
        raise ServiceUnreachableError(service, f"{host}:{port}", reason) from None
