"""What stops a batch job, each said in one line with what to do about it."""

from __future__ import annotations

from smart_meter.reachability import ServiceUnreachableError, check_reachable

__all__ = ["BatchError", "EmptyRangeError", "ServiceUnreachableError", "check_reachable"]


class BatchError(Exception):
    """A job cannot run or finish; the message is the one line the user sees."""


class EmptyRangeError(BatchError):
    """No reading in the range asked for (nothing to compute is not a success)."""
