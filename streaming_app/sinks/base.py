"""The sink contract and how sink failures are sorted.

A sink writes a whole :class:`ProcessedBatch` or raises. The worker reacts by class:

- :class:`TransientSinkError` (server down, timeout, overload): back off, keep the
  messages un-acked, stop pulling, retry the same batch until it goes through.
- anything else is a bug or a poison batch and stops the worker loudly; it is never
  swallowed.

Writes must be idempotent: the same batch written twice leaves the same rows.
"""

from __future__ import annotations

from typing import Protocol

from streaming_app.processed import ProcessedBatch


class TransientSinkError(ConnectionError):
    """A sink could not write now, but may later: retry the same batch."""

    def __init__(self, sink: str, reason: str) -> None:
        self.sink, self.reason = sink, reason
        super().__init__(f"{sink}: {reason}")


class Sink(Protocol):
    """Writes processed batches somewhere, idempotently."""

    name: str

    async def write(self, batch: ProcessedBatch) -> None:
        """Write everything of the batch this sink keeps; raise TransientSinkError to retry."""
        ...

    async def close(self) -> None:
        """Flush and release connections."""
        ...
