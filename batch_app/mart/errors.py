"""Why a mart refresh stops, each said in one line with the fields a caller can act on."""

from __future__ import annotations

from datetime import date

from batch_app.errors import BatchError


class MartError(BatchError):
    """A refresh of the reporting mart cannot run; nothing of it was written."""


class MartFrameError(MartError, ValueError):
    """A batch result frame does not fit its mart table (checked before anything is written)."""

    def __init__(self, table: str, problem: str, columns: tuple[str, ...] = ()) -> None:
        self.table, self.problem, self.columns = table, problem, columns
        super().__init__(f"mart frame {table}: {problem}")


class MartRangeError(MartError, ValueError):
    """The refresh's date range is empty (the last day before the first)."""

    def __init__(self, first_day: date, last_day: date) -> None:
        self.first_day, self.last_day = first_day, last_day
        super().__init__(
            f"mart refresh range is empty: last day {last_day} is before first day {first_day}"
        )


class MartUnreachableError(MartError, ConnectionError):
    """PostgreSQL does not answer, or refuses the mart's role."""

    def __init__(self, address: str, reason: str, hint: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(f"PostgreSQL is unreachable at {address} ({reason}); {hint}")
