"""Progress of an export on standard error: a bar over the Cassandra partitions read, shown
only for large exports (many meter-days) and never with ``--quiet``."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

LARGE_EXPORT_PARTITIONS = 200
"""From this many partitions to read on, an export shows its progress."""


class ExportProgress:
    """Counts partitions read; draws a bar when asked to and the export is large."""

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self.total = 0
        self.done = 0

    def __enter__(self) -> ExportProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def say(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[dim]excel:[/] {text}", highlight=False)

    def start(self, partitions: int) -> None:
        self.total = partitions
        if self.quiet or partitions < LARGE_EXPORT_PARTITIONS:
            return
        self._bar = Progress(
            TextColumn("reading Cassandra"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._task = self._bar.add_task("partitions", total=partitions)
        self._bar.start()

    def advance(self, partitions: int) -> None:
        self.done += partitions
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=min(self.done, self.total))
