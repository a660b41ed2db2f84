"""``python -m demo`` (``make demo``): the whole pipeline on the local stack.

Starts NATS, Cassandra and InfluxDB (installed on first use), publishes a simulated fleet
of one-minute meters with every fault kind injected, runs the streaming app until every
message is acked, then prints what went in, what was stored, rejected and found, and the
precision and recall of the findings against the injector's ground truth, runs every
batch job over the demo's days, and ends with a training part: weeks of half-hourly
history under grid stress through JetStream and the app into
``smart_meter_<name>_history``, then the voltage-event classifiers (test F1 and PR-AUC
beside the baselines), their predictions and the forecast job on it (MASE per model);
the same as JSON in ``<out-dir>/summary.json``.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

import orjson
from rich.console import Console

from batch_app.errors import BatchError, ServiceUnreachableError
from demo.batch import batch_document, batch_table, run_batch
from demo.deployment import DemoDeployment
from demo.history import HistoryOptions, build_history
from demo.run import DemoError, DemoOptions, run_demo
from demo.summary import score_run, summary_document, summary_tables
from demo.training import DemoTraining, run_training_part, training_document, training_tables
from smart_meter.cli_args import positive_int, utc_time
from smart_meter.settings import ConnectionSettings
from stack.errors import StackError
from stack.manager import LocalStack
from stack.settings import connections_for
from training.errors import TrainingError

SERVICES = ("nats", "cassandra", "influxdb", "postgres")


def _utc_minute(text: str) -> datetime:
    when = utc_time(text)
    if when.second or when.microsecond:
        raise argparse.ArgumentTypeError(f"must be on a whole minute: {text!r}")
    return when


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = DemoOptions()
    root.add_argument("--meters", type=positive_int, default=defaults.meters)
    root.add_argument("--intervals", type=positive_int, default=defaults.intervals, help="minutes")
    root.add_argument("--faults", choices=("all", "default", "none"), default=defaults.faults)
    root.add_argument("--seed", type=int, default=defaults.seed)
    root.add_argument(
        "--replicas", type=positive_int, default=defaults.replicas, help="app replicas"
    )
    root.add_argument("--timeout-s", type=float, default=defaults.timeout_s)
    root.add_argument("--out-dir", type=Path, default=defaults.out_dir, help="logs, JSON")
    root.add_argument("--start", type=_utc_minute, help="first event time, e.g. 2024-03-04T12:00Z")
    root.add_argument(
        "--name", default=defaults.name, help="names the run's stream, keyspace, ... (reset)"
    )
    history = HistoryOptions()
    root.add_argument(
        "--history-meters",
        type=positive_int,
        default=history.meters,
        help="half-hourly meters of the training history (5 a transformer)",
    )
    root.add_argument(
        "--history-days", type=positive_int, default=history.days, help="days of history"
    )
    root.add_argument("--skip-training", action="store_true", help="no history, no training part")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = DemoOptions(
        meters=args.meters,
        intervals=args.intervals,
        faults=args.faults,
        seed=args.seed,
        replicas=args.replicas,
        timeout_s=args.timeout_s,
        out_dir=args.out_dir,
        name=args.name,
        start=args.start,
    )
    console = Console(width=130)
    stack = LocalStack()
    try:
        for service in stack.up(SERVICES):
            console.print(service.line())
    except StackError as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    connections = connections_for(stack.settings)
    with console.status("publishing the fleet, then validating and storing it") as status:

        def progress(left: int) -> None:
            status.update(f"streaming app: {left:,} messages not yet acked")

        try:
            run = asyncio.run(run_demo(options, connections, progress))
        except DemoError as error:
            console.print(f"[red]error:[/red] {error}")
            return 1
    report = score_run(run)
    for table in summary_tables(run, report):
        console.print(table)
    demo_connections = DemoDeployment(options.name).connections(connections)
    console.print("batch: every Spark job over the demo's days (stage lines below)")
    try:
        batch = run_batch(demo_connections, run.start.date(), run.last.date())
    except (BatchError, ServiceUnreachableError) as error:
        console.print(f"[red]error:[/red] batch: {error}")
        return 1
    console.print(batch_table(batch))
    summary = options.out_dir / "summary.json"
    document = summary_document(run, report) | {"batch": batch_document(batch)}
    if not args.skip_training:
        history = HistoryOptions(
            meters=args.history_meters,
            days=args.history_days,
            name=options.name,
            timeout_s=options.timeout_s * 2,
            out_dir=options.out_dir,
        )
        training = _training(console, history, connections)
        if training is None:
            return 1
        document["training"] = training_document(training)
    summary.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    console.print(f"summary written to {summary}")
    return 0


def _training(
    console: Console, options: HistoryOptions, connections: ConnectionSettings
) -> DemoTraining | None:
    """The history through the app, then the training jobs on it; None after an error."""
    with console.status("training history: publishing, then validating and storing") as status:

        def progress(left: int) -> None:
            status.update(f"training history: {left:,} messages not yet acked")

        try:
            history = asyncio.run(build_history(options, connections, progress))
        except DemoError as error:
            console.print(f"[red]error:[/red] training history: {error}")
            return None
    console.print(
        "training: the voltage classifiers, their predictions and the forecast over the "
        "history (stage lines below)"
    )
    try:
        training = run_training_part(history, options.out_dir / "models")
    except TrainingError as error:
        console.print(f"[red]error:[/red] training: {error}")
        return None
    for table in training_tables(training):
        console.print(table)
    return training
