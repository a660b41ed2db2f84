"""Stage lines of a running job: what it does now, and how long the last stage took."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Say = Callable[[str], None]


class Stages:
    """Prints ``[job] stage`` lines with the seconds since the job started."""

    def __init__(self, job: str, out: TextIO | None = None, quiet: bool = False) -> None:
        self.job, self.out, self.quiet = job, out or sys.stderr, quiet
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.monotonic() - self.started
            print(f"[{self.job} {elapsed:6.1f}s] {message}", file=self.out, flush=True)
