"""What stops a batch job, each said in one line with what to do about it."""

from __future__ import annotations

import socket

CONNECT_TIMEOUT_S = 5.0


class BatchError(Exception):
    """A job cannot run or finish; the message is the one line the user sees."""


class ServiceUnreachableError(BatchError):
    """Cassandra, PostgreSQL or the Spark master does not answer."""

    def __init__(self, service: str, address: str, hint: str) -> None:
        super().__init__(f"{service} is unreachable at {address}: {hint}")


class EmptyRangeError(BatchError):
    """No reading in the range asked for (nothing to compute is not a success)."""


def check_reachable(service: str, host: str, port: int, hint: str) -> None:
    """One clear line, before a job spends seconds starting, when a server is not there."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return
    except OSError as error:
        reason = f"{error.strerror or error}; {hint}"
        raise ServiceUnreachableError(service, f"{host}:{port}", reason) from None
