"""``python start_services.py local|swarm VERB …``: the console's verbs from the shell.

    scale SERVICE N        status         logs SERVICE [-n N]     stop SERVICE
    stop-all               up             down
    run-inject [--meters M] [--rate R] [--faults default|none|all] [--replicas N]
    run-app-streaming [--replicas N] [--preset demo|prod]          run-bridge

A wrong service name or replica count ends with one line and exit status 2, an
unreachable backend with one line and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from console.errors import ConsoleError
from console.verbs import Console
from smart_meter.cli_args import OneLineParser, positive_float, positive_int, whole_int
from stack.errors import StackError

BACKENDS = ("local", "swarm")


def make_console(backend: str) -> Console:
    """The console over the named backend (the Docker SDK is loaded only for swarm)."""
    if backend == "swarm":
        from console.swarm import SwarmBackend  # noqa: PLC0415 - only swarm needs docker

        return Console(SwarmBackend())
    from console.local import LocalBackend  # noqa: PLC0415 - symmetric with swarm

    return Console(LocalBackend())


def build_parser(backend: str) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=f"python start_services.py {backend}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(
        dest="verb", required=True, parser_class=OneLineParser, metavar="VERB"
    )
    verbs.add_parser("up")
    verbs.add_parser("status")
    verbs.add_parser("down")
    verbs.add_parser("stop-all", aliases=["stop_all"])
    scale = verbs.add_parser("scale")
    scale.add_argument("service")
    scale.add_argument("replicas", type=whole_int)
    logs = verbs.add_parser("logs")
    logs.add_argument("service")
    logs.add_argument("-n", type=positive_int, default=20, help="lines per replica")
    stop = verbs.add_parser("stop")
    stop.add_argument("service")
    inject = verbs.add_parser("run-inject", aliases=["run_inject"])
    inject.add_argument("--meters", type=positive_int, default=1000, help="per replica")
    inject.add_argument("--rate", type=positive_float, default=100.0, help="readings/s each")
    inject.add_argument("--faults", choices=("default", "none", "all"), default="default")
    inject.add_argument("--replicas", type=whole_int, default=1)
    app = verbs.add_parser("run-app-streaming", aliases=["run_app_streaming"])
    app.add_argument("--replicas", type=whole_int, default=1)
    app.add_argument("--preset", choices=("demo", "prod"), default=None)
    verbs.add_parser("run-bridge", aliases=["run_bridge"])
    return parser


def run_shell(backend: str, argv: Sequence[str]) -> int:
    """Run one verb; the exit status."""
    args = build_parser(backend).parse_args(list(argv))
    verb = args.verb.replace("_", "-")
    try:
        console = make_console(backend)
        if verb in ("up", "status", "down", "stop-all", "run-bridge"):
            getattr(console, verb.replace("-", "_"))()
        elif verb == "scale":
            console.scale(args.service, args.replicas)
        elif verb == "logs":
            console.logs(args.service, args.n)
        elif verb == "stop":
            console.stop(args.service)
        elif verb == "run-inject":
            console.run_inject(args.meters, args.rate, args.faults, args.replicas)
        else:
            console.run_app_streaming(args.replicas, args.preset)
    except ConsoleError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except StackError as error:  # the local stack could not start or stop
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
