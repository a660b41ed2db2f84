"""The streaming app's CPU per reading, from outside: run a benchmark command that starts
``python -m streaming_app run`` (``bench.pipeline_bench``'s end-to-end part does), and
sample that process's CPU time until it exits.

    python -m bench.app_cpu [--repeats 3] -- python -m bench.pipeline_bench --e2e-only \\
        --meters 500 --e2e-readings 24000

Per run it prints the app's CPU seconds (user + system, every thread, from start to its
last sample before exit: startup included) and the command's end-to-end line. The
startup cost cancels out in a difference: run once with few readings and once with many,
and (CPU many - CPU few) / (readings many - readings few) is the app's CPU per reading.
Then min/median/max of the runs, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

import psutil

SAMPLE_S = 0.05
E2E_LINE = re.compile(r"\(d\) published ([\d,]+) readings.*?last ack ([\d.]+) s")


def app_process(parent: psutil.Process) -> psutil.Process | None:
    """The streaming app among ``parent``'s descendants, if it runs yet."""
    for child in parent.children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.Error:
            continue
        if "streaming_app" in command and "run" in command:
            return child
    return None


def cpu_s(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def one_run(command: Sequence[str]) -> tuple[float, str]:
    """The app's CPU seconds during ``command``, and the command's output."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as bench:
        parent, app, used = psutil.Process(bench.pid), None, 0.0
        while bench.poll() is None:
            app = app or app_process(parent)
            if app is not None:
                used = cpu_s(app) or used
            time.sleep(SAMPLE_S)
        output = bench.stdout.read() if bench.stdout else ""
    if bench.returncode:
        raise SystemExit(f"{command[0]} exited with {bench.returncode}:\n{output}")
    return used, output


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="after --")
    options = parser.parse_args(argv)
    command = [part for part in options.command if part != "--"]
    print(f"command: {' '.join(command)}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    cpus, rates = [], []
    for run in range(1, options.repeats + 1):
        used, output = one_run(command)
        found = E2E_LINE.search(output)
        readings = int(found.group(1).replace(",", "")) if found else 0
        seconds = float(found.group(2)) if found else float("nan")
        rates.append(readings / seconds)
        cpus.append(used)
        print(
            f"run {run}: app CPU {used:.2f} s for {readings:,} readings "
            f"({used / max(readings, 1) * 1e6:,.0f} µs/reading, startup included); "
            f"end to end {readings / seconds:,.0f} readings/s",
            flush=True,
        )
    for name, values in (("app CPU s", cpus), ("readings/s", rates)):
        ordered = sorted(values)
        print(
            f"{name}: min {ordered[0]:,.2f} median {statistics.median(ordered):,.2f} "
            f"max {ordered[-1]:,.2f}"
        )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main(sys.argv[1:])
