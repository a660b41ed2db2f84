"""``python -m streaming_app run``: one replica of the streaming app.

python -m streaming_app run [--preset demo|prod] [--replica-id ID]
                            [--partitions auto|0,1,2] [--idle-exit-s N] [--config FILE]

Everything else comes from ``SMART_METER_APP_*`` (see :mod:`streaming_app.settings`)
and ``SMART_METER_*`` (where the servers are).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from smart_meter.settings import checked_connections
from streaming_app.runtime.app import run_app
from streaming_app.runtime.collector import tune_collector
from streaming_app.settings import load_settings


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m streaming_app",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one replica until SIGTERM")
    run.add_argument("--preset", choices=["demo", "prod"], help="rule parameter preset")
    run.add_argument("--replica-id", help="unique per replica (default: host-pid)")
    run.add_argument("--partitions", help='"auto" (fair share) or a list like 0,1,2')
    run.add_argument("--idle-exit-s", type=float, help="exit after this long without messages")
    run.add_argument("--config", type=Path, help="TOML or JSON settings file")
    run.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = load_settings(
        args.config,
        preset=args.preset,
        replica_id=args.replica_id,
        partitions=args.partitions,
        idle_exit_s=args.idle_exit_s,
    )
    connections = checked_connections()
    tune_collector(settings.gc_young_threshold)  # this process's only: not in run_app
    asyncio.run(run_app(settings, connections))
    return 0
