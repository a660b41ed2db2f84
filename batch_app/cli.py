"""``python -m batch_app JOB --from DATE --to DATE [--meters M1,M2] [--master URL]``."""

from __future__ import annotations

import argparse
import sys

from batch_app.api import run_app_batch
from batch_app.errors import BatchError, ServiceUnreachableError
from batch_app.jobs import JOBS
from batch_app.settings import BatchSettings
from smart_meter.cli_args import OneLineParser, iso_day, meter_list


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(
        prog="python -m batch_app",
        description="Spark batch jobs over the readings in Cassandra, for local days FROM..TO.",
    )
    cli.add_argument("job", choices=[*JOBS, "all"], help="which job ('all': every job in order)")
    cli.add_argument("--from", dest="first", type=iso_day, required=True, help="first local day")
    cli.add_argument("--to", dest="last", type=iso_day, required=True, help="last local day")
    cli.add_argument("--meters", type=meter_list, help="comma-separated meter ids (default: all)")
    cli.add_argument("--master", help="Spark master URL (default local[2]; spark://host:7077)")
    cli.add_argument("--quiet", action="store_true", help="no stage lines")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {"master": args.master} if args.master else {}
    try:
        settings = BatchSettings(**overrides)
        report = run_app_batch(
            args.job, args.first, args.last, args.meters, settings=settings, quiet=args.quiet
        )
    except (BatchError, ServiceUnreachableError) as error:
        print(f"batch_app: {error}", file=sys.stderr)
        return 1
    for name, summary in report.summaries.items():
        print(f"{name}: {summary}")
    return 0
