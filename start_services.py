"""Start, inspect and stop the smart-meter platform.

    python start_services.py up [SERVICE ...]      start what is not running, reuse the rest
    python start_services.py status [SERVICE ...]  one line per service
    python start_services.py down [SERVICE ...]    stop exactly what the project started

Services: nats, cassandra, kafka, influxdb, postgres (default: all of these), and the
opt-in groups docker (the project's own Docker engine) and nats-cluster (three clustered
NATS nodes): those start only when named, and a plain ``down`` stops them too.
The same functions (``up()``, ``status()``, ``down()``) are what the interactive REPL exposes, with
``run_app_batch(job, first_day, last_day, meters=None)`` for the Spark batch jobs
(``python -m batch_app --help``).
"""

from __future__ import annotations

import argparse
import sys

from batch_app.api import run_app_batch
from stack.errors import StackError
from stack.manager import ALL_NAMES, LocalStack

__all__ = ["down", "run_app_batch", "status", "up"]


def up(*services: str) -> bool:
    """Start the named services (all by default); print one line each; True if all healthy."""
    results = LocalStack().up(services or None)
    for result in results:
        print(result.line())
    return all(result.status.healthy for result in results)


def status(*services: str) -> bool:
    """Print one line per service; True if all are healthy."""
    statuses = LocalStack().status(services or None)
    for line in statuses:
        print(line.line())
    return all(line.healthy for line in statuses)


def down(*services: str) -> None:
    """Stop the services the project started (by recorded pid)."""
    for name, was_running in LocalStack().down(services or None).items():
        print(f"{name:<10} {'stopped' if was_running else 'was not running'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("up", "status", "down"))
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(ALL_NAMES))
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return 0 if up(*args.services) else 1
        if args.command == "status":
            return 0 if status(*args.services) else 1
        down(*args.services)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
