"""Running jobs from Python: what ``python -m batch_app`` and ``start_services.py``
(``run_app_batch``) call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from batch_app.errors import BatchError, check_reachable
from batch_app.jobs import JOBS, JobContext
from batch_app.settings import BatchSettings
from smart_meter.credentials import CredentialsError
from smart_meter.progress import Stages
from smart_meter.settings import ConnectionSettings
from smart_meter.spark.session import spark_session
from smart_meter.storage.session import open_session


@dataclass
class BatchReport:
    """What a run did: each job's summary, the rows written per table, the seconds taken."""

    first_day: date
    last_day: date
    summaries: dict[str, Any] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)


def ensure_tables(connections: ConnectionSettings) -> None:
    """The keyspace and every table, batch tables included (idempotent)."""
    session = open_session(connections, create_schema=True, bind=False)
    session.cluster.shutdown()


def job_names(job: str) -> list[str]:
    if job == "all":
        return list(JOBS)
    if job not in JOBS:
        raise BatchError(f"unknown job {job!r}: choose one of {', '.join([*JOBS, 'all'])}")
    return [job]


def run_app_batch(
    job: str,
    first_day: date,
    last_day: date,
    meters: Sequence[str] | None = None,
    *,
    settings: BatchSettings | None = None,
    connections: ConnectionSettings | None = None,
    quiet: bool = False,
) -> BatchReport:
    """Run ``job`` (or ``"all"``) over local days ``first_day..last_day``."""
    if last_day < first_day:
        raise BatchError(f"--to {last_day} is before --from {first_day}")
    names = job_names(job)
    settings = settings or BatchSettings()
    connections = connections or ConnectionSettings()
    try:
        connections.check_credentials()
    except CredentialsError as error:
        raise BatchError(str(error)) from None
    say = Stages(job, quiet=quiet)
    if "mart" in names and not meters:
        check_reachable(
            "PostgreSQL", connections.postgres_host, connections.postgres_port,
            "start it with `python start_services.py up postgres`",
        )  # fmt: skip
    say(f"starting Spark ({settings.master})")
    spark = spark_session(settings.spark_options(), connections, job)
    ensure_tables(connections)
    context = JobContext(
        spark,
        settings,
        connections,
        first_day,
        last_day,
        list(meters) if meters else None,
        say,
        all_jobs=job == "all",
    )
    report = BatchReport(first_day, last_day)
    for name in names:
        report.summaries[name] = JOBS[name](context)
    report.written = dict(context.written)
    say(f"done: {', '.join(f'{k} {v}' for k, v in report.written.items())}")
    return report
