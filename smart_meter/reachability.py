"""Whether a server answers, said in one line before a job spends seconds starting."""

from __future__ import annotations

import socket

CONNECT_TIMEOUT_S = 5.0


class ServiceUnreachableError(Exception):
    """A server does not answer."""

    def __init__(self, service: str, address: str, hint: str) -> None:
        super().__init__(f"{service} is unreachable at {address}: {hint}")


def check_reachable(service: str, host: str, port: int, hint: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return
    except OSError as error:
        reason = f"{error.strerror or error}; {hint}"
        raise ServiceUnreachableError(service, f"{host}:{port}", reason) from None
