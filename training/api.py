"""Running training jobs from Python: what ``python -m training`` and
``start_services.py`` (``run_training``) call."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smart_meter.reachability import ServiceUnreachableError, check_reachable
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from training.context import TrainingContext
from training.errors import TrainingError
from training.jobs import JOBS
from training.settings import TrainingSettings
from training.spark import Stages, spark_session


@dataclass
class TrainingReport:
    """What a run did: each job's summary and the rows or points written."""

    first_day: date
    last_day: date
    summaries: dict[str, Any] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)


def job_names(job: str) -> list[str]:
    if job == "all":
        return list(JOBS)
    if job not in JOBS:
        raise TrainingError(f"unknown job {job!r}: choose one of {', '.join([*JOBS, 'all'])}")
    return [job]


def check_influxdb(connections: ConnectionSettings) -> None:
    """Before Spark starts: predictions go to InfluxDB too."""
    address = urllib.parse.urlparse(connections.influxdb_url)
    hint = "start it with `python start_services.py up`"
    check_reachable("InfluxDB", address.hostname or "", address.port or 8086, hint)


def ensure_tables(connections: ConnectionSettings) -> None:
    """The keyspace and every table, the prediction tables included (idempotent)."""
    session = open_session(connections, create_schema=True, bind=False)
    session.cluster.shutdown()


def run_training(
    job: str,
    first_day: date,
    last_day: date,
    meters: Sequence[str] | None = None,
    *,
    settings: TrainingSettings | None = None,
    connections: ConnectionSettings | None = None,
    quiet: bool = False,
) -> TrainingReport:
    """Run ``job`` (or ``"all"``) over UTC days ``first_day..last_day``; a
    :class:`TrainingError` (one line) when it cannot."""
    try:
        return _run(job, first_day, last_day, meters, settings, connections, quiet)
    except ServiceUnreachableError as error:
        raise TrainingError(str(error)) from None


def _run(
    job: str,
    first_day: date,
    last_day: date,
    meters: Sequence[str] | None,
    settings: TrainingSettings | None,
    connections: ConnectionSettings | None,
    quiet: bool,
) -> TrainingReport:
    if last_day < first_day:
        raise TrainingError(f"--to {last_day} is before --from {first_day}")
    names = job_names(job)
    settings = settings or TrainingSettings()
    connections = connections or ConnectionSettings()
    say = Stages(job, quiet=quiet)
    if "predict-voltage" in names:
        check_influxdb(connections)
    say(f"starting Spark ({settings.master})")
    spark = spark_session(settings, connections, f"training {job}")
    ensure_tables(connections)
    chosen = list(meters) if meters else None
    context = TrainingContext(spark, settings, connections, first_day, last_day, chosen, say)
    report = TrainingReport(first_day, last_day)
    for name in names:
        report.summaries[name] = JOBS[name](context)
    report.written = dict(context.written)
    say(f"done: {', '.join(f'{k} {v}' for k, v in report.written.items()) or 'nothing written'}")
    return report
