"""Which NATS failures are "not now" (a server restarting, a stream electing a leader).

In a NATS cluster, losing a node makes requests time out, find no responders (HTTP-like
503) or get a JetStream API error while the stream's replicas elect a new leader. Each of
these is worth retrying with the same request (a publish keeps its ``Nats-Msg-Id``, so
JetStream stores it once); anything else is a real error and is raised.
"""

from __future__ import annotations

from nats.errors import (
    ConnectionReconnectingError,
    NoRespondersError,
    StaleConnectionError,
)
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import APIError, NoStreamResponseError, ServiceUnavailableError

SERVICE_UNAVAILABLE = 503
TRANSIENT_JS_ERR_CODES = frozenset({10158})
"""JetStream error codes returned while a clustered stream has no leader for a moment."""

TRANSIENT_NATS_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    NatsTimeoutError,
    NoRespondersError,
    NoStreamResponseError,
    ServiceUnavailableError,  # a 503 status message carries no code: its class says it
    ConnectionReconnectingError,
    StaleConnectionError,
)


def is_transient(error: BaseException) -> bool:
    """True for a timeout, no responders, a lost connection, or a JetStream 503 / 10158."""
    if isinstance(error, TRANSIENT_NATS_ERRORS):
        return True
    if isinstance(error, APIError):
        return error.code == SERVICE_UNAVAILABLE or error.err_code in TRANSIENT_JS_ERR_CODES
    return False
