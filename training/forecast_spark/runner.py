"""A temporary runner of the forecast job until the training runner (``run_training``,
``python -m training``) is on this branch: ``python -m training.forecast_spark``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cassandra.cluster import EXEC_PROFILE_DEFAULT
from pyspark.sql import SparkSession

from smart_meter.cli_args import OneLineParser
from smart_meter.progress import Stages
from smart_meter.reachability import ServiceUnreachableError
from smart_meter.settings import ConnectionSettings, default_cache_dir
from smart_meter.spark.session import SparkOptions, spark_session
from smart_meter.storage.schema import ensure_schema
from smart_meter.storage.session import open_session
from training.forecast_spark.errors import ForecastJobError
from training.jobs.forecast_job import ForecastSummary, forecast_job

SCHEMA_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RunnerSettings:
    model_dir: Path = Path.home() / ".local" / "share" / "smart-meter" / "models"


@dataclass
class RunnerContext:
    spark: SparkSession
    settings: RunnerSettings
    connections: ConnectionSettings
    last_day: date
    meters: Sequence[str] | None = None
    say: Callable[[str], None] = print
    written: dict[str, int] = field(default_factory=dict)

    @property
    def keyspace(self) -> str:
        return self.connections.cassandra_keyspace

    def count(self, what: str, rows: int) -> None:
        self.written[what] = self.written.get(what, 0) + rows


def ensure_tables(connections: ConnectionSettings) -> None:
    """The keyspace and every table (idempotent), with time for a busy Cassandra."""
    session = open_session(connections, create_schema=False, bind=False)
    try:
        session.get_execution_profile(EXEC_PROFILE_DEFAULT).request_timeout = SCHEMA_TIMEOUT_S
        ensure_schema(session, connections.cassandra_keyspace, connections.cassandra_replication)
    finally:
        session.cluster.shutdown()


def run_forecast(
    last_day: date,
    meters: Sequence[str] | None = None,
    *,
    model_dir: Path | None = None,
    master: str = "local[2]",
    connections: ConnectionSettings | None = None,
    quiet: bool = False,
) -> ForecastSummary:
    connections = connections or ConnectionSettings()
    say = Stages("forecast", quiet=quiet)
    try:
        options = SparkOptions(
            master=master, driver_memory="4g", ivy_dir=default_cache_dir() / "ivy"
        )
        spark = spark_session(options, connections, "training forecast")
        ensure_tables(connections)
        settings = RunnerSettings(model_dir) if model_dir else RunnerSettings()
        context = RunnerContext(spark, settings, connections, last_day, meters, say)
        return forecast_job(context)
    except ServiceUnreachableError as error:
        raise ForecastJobError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    cli = OneLineParser(prog="python -m training.forecast_spark")
    cli.add_argument(
        "--to", type=date.fromisoformat, help="last day of history (default: yesterday)"
    )
    cli.add_argument("--meters", help="comma-separated meter ids")
    cli.add_argument("--master", default="local[2]")
    cli.add_argument("--model-dir", type=Path)
    args = cli.parse_args(argv)
    last = args.to or datetime.now(UTC).date() - timedelta(days=1)
    meters = [m for m in args.meters.split(",") if m] if args.meters else None
    try:
        summary = run_forecast(last, meters, model_dir=args.model_dir, master=args.master)
    except ForecastJobError as error:
        print(f"training: {error}", file=sys.stderr)
        return 1
    print(f"forecast: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
