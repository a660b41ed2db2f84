"""Start, inspect and stop the smart-meter platform.

    python start_services.py up [SERVICE ...]      start what is not running, reuse the rest
    python start_services.py status [SERVICE ...]  one line per service
    python start_services.py down [SERVICE ...]    stop exactly what the project started

Services: nats, cassandra, kafka, influxdb, postgres (default: all of these), and the
opt-in groups docker (the project's own Docker engine) and nats-cluster (three clustered
NATS nodes): those start only when named, and a plain ``down`` stops them too.

The operator's console over the platform's own services (inject, streaming-app,
kafka-bridge), on local processes or Docker Swarm:

    python -i start_services.py [local|swarm]      a REPL: up(), run_inject(), scale(), ...
    python start_services.py local|swarm VERB ...  the same verbs from the shell, e.g.
    python start_services.py local scale inject 3

The REPL also has ``run_app_batch(job, first_day, last_day, meters=None)`` for the Spark
batch jobs (``python -m batch_app --help``) and ``run_training(...)`` for the models.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable
from typing import Any

from batch_app.api import run_app_batch
from console.errors import ConsoleError
from console.shell import BACKENDS, make_console, run_shell
from console.verbs import HELP
from stack.errors import StackError
from stack.manager import ALL_NAMES, LocalStack

__all__ = ["down", "run_app_batch", "run_training", "status", "up"]


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


def run_training(*args: Any, **kwargs: Any) -> Any:
    """The training jobs (``training.api.run_training``), loaded when first called."""
    try:
        train = importlib.import_module("training.api").run_training
    except (ImportError, AttributeError):
        print("error: training.api.run_training is not in this checkout", file=sys.stderr)
        return None
    return train(*args, **kwargs)


def one_line_errors(verb: Callable[..., Any]) -> Callable[..., Any]:
    """In the REPL, a console error is one line, not a traceback."""

    @functools.wraps(verb)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return verb(*args, **kwargs)
        except (ConsoleError, StackError) as error:
            print(f"error: {error}", file=sys.stderr)
            return None

    return guarded


def open_console(backend: str) -> dict[str, Callable[..., Any]]:
    """The REPL's verbs over ``backend``, put into this module's namespace; prints help."""
    console = make_console(backend)
    verbs = {
        name: one_line_errors(getattr(console, name))
        for name in (
            "up", "status", "down", "run_inject", "run_app_streaming", "run_bridge",
            "scale", "logs", "stop", "stop_all",
        )
    }  # fmt: skip
    verbs["run_app_batch"] = run_app_batch
    verbs["run_training"] = run_training
    globals().update(verbs)
    print(HELP.format(backend=backend))
    return verbs


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in BACKENDS:
        if len(argv) == 1:
            print(HELP.format(backend=argv[0]))
            return 0
        return run_shell(argv[0], argv[1:])
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


def repl_backend(argv: list[str]) -> str | None:
    """The backend of ``python -i start_services.py [local|swarm]``, else ``None``."""
    if not sys.flags.interactive or len(argv) > 1:
        return None
    if not argv:
        return "local"
    return argv[0] if argv[0] in BACKENDS else None


if __name__ == "__main__":
    chosen = repl_backend(sys.argv[1:])
    if chosen is None:
        raise SystemExit(main())
    try:
        open_console(chosen)
    except ConsoleError as failure:
        print(f"error: {failure}", file=sys.stderr)
