"""``python -m training JOB [--from DAY] [--to DAY] [--meters M1,M2] [--master URL]
[--model-dir DIR] [--hours N]``.

``voltage`` trains the voltage-event classifier on UTC days FROM..TO (both needed);
``predict-voltage`` scores each meter's latest hour up to the end of TO (default: today,
UTC) with the chosen model (``--hours 24``: each of its last 24 hours, a backfill for the
dashboard); ``all`` runs every job in order.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from smart_meter.cli_args import OneLineParser, iso_day, meter_list, positive_int
from training.api import run_training
from training.errors import TrainingError
from training.jobs import JOBS
from training.settings import TrainingSettings

NEEDS_RANGE = ("voltage", "all")


def parser() -> argparse.ArgumentParser:
    cli = OneLineParser(
        prog="python -m training",
        description="Train models on the stored readings and events, and write predictions.",
    )
    cli.add_argument("job", choices=[*JOBS, "all"], help="which job ('all': every job in order)")
    cli.add_argument("--from", dest="first", type=iso_day, help="first UTC day (training)")
    cli.add_argument("--to", dest="last", type=iso_day, help="last UTC day (default: today)")
    cli.add_argument("--meters", type=meter_list, help="comma-separated meter ids (default: all)")
    cli.add_argument("--master", help="Spark master URL (default local[2]; spark://host:7077)")
    cli.add_argument("--model-dir", type=Path, help="where models are saved and loaded")
    cli.add_argument(
        "--hours", type=positive_int, help="predict-voltage: score each meter's last N hours"
    )
    cli.add_argument("--quiet", action="store_true", help="no stage lines")
    return cli


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if args.job in NEEDS_RANGE and (args.first is None or args.last is None):
        cli.error(f"{args.job} needs --from DAY and --to DAY (the days to train on)")
    overrides = {
        key: value
        for key, value in (
            ("master", args.master),
            ("model_dir", args.model_dir),
            ("score_hours", args.hours),
        )
        if value is not None
    }
    try:
        settings = TrainingSettings(**overrides)
    except ValidationError as error:
        problem = error.errors()[0]
        cli.error(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}")
    try:
        last = args.last or datetime.now(UTC).date()
        first = args.first or last - timedelta(days=settings.history_days)
        report = run_training(
            args.job, first, last, args.meters, settings=settings, quiet=args.quiet
        )
    except TrainingError as error:
        print(f"training: {error}", file=sys.stderr)
        return 1
    for name, summary in report.summaries.items():
        print(f"{name}: {summary}")
    return 0
