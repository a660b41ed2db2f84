"""Cold start time and resident memory of each server of the local stack.

    python -m bench.stack_bench [--offset 10000]

Starts a second, throw-away stack from an empty state folder on ports shifted by
``--offset`` (so a running stack is not disturbed), waits until each server answers
a real query, records the time and the resident memory of its process tree, stops it.
Downloads are assumed cached (the first ``up`` pays for them; see the README).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import psutil

from stack.manager import SERVICE_CLASSES
from stack.settings import StackSettings


def tree_rss_mib(process: psutil.Process) -> float:
    members = [process, *process.children(recursive=True)]
    return sum(p.memory_info().rss for p in members if p.is_running()) / 2**20


def shifted_settings(state_dir: Path, offset: int) -> StackSettings:
    base = StackSettings()
    ports = {
        name: getattr(base, name) + offset
        for name in type(base).model_fields
        if name.endswith("_port")
    }
    return StackSettings(state_dir=state_dir, **ports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offset", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; command: python -m bench.stack_bench"
    )
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # PostgreSQL runs as the postgres user, who must reach it
        settings = shifted_settings(Path(folder), args.offset)
        for cls in SERVICE_CLASSES:
            service = cls(settings)
            service.install()
            began = time.monotonic()
            process = service.start()
            try:
                detail = service.wait_healthy(process)
                seconds = time.monotonic() - began
                print(
                    f"{service.name:<10} {detail:<32} cold start {seconds:5.1f} s   "
                    f"RSS {tree_rss_mib(process):6.0f} MiB"
                )
            finally:
                service.stop()


if __name__ == "__main__":
    main()
