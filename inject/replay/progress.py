"""A rich progress bar over the file's bytes, with rows, readings and bad rows so far."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from inject.replay.core import ReplayReport


class ReplayProgress:
    """Context manager showing one file's replay on stderr (stdout keeps the report)."""

    def __init__(self, file_name: str, size_bytes: int, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self._task: TaskID = self._progress.add_task(file_name, total=size_bytes, counts="")

    def __enter__(self) -> ReplayProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, bytes_read: int, report: ReplayReport) -> None:
        counts = f"{report.rows_read} rows, {report.readings_sent} sent, {report.bad_rows} bad"
        self._progress.update(self._task, completed=bytes_read, counts=counts)
