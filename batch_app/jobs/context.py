"""What every job is given: the session, the settings, the range and where to say progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyspark.sql import DataFrame, SparkSession

from batch_app.settings import BatchSettings
from smart_meter.progress import Say
from smart_meter.settings import ConnectionSettings
from smart_meter.spark.cassandra import read_readings


@dataclass
class JobContext:
    """One run of one or more jobs over local days ``first_day..last_day``."""

    spark: SparkSession
    settings: BatchSettings
    connections: ConnectionSettings
    first_day: date
    last_day: date
    meters: Sequence[str] | None = None
    say: Say = print
    all_jobs: bool = False
    written: dict[str, int] = field(default_factory=dict)

    @property
    def keyspace(self) -> str:
        return self.connections.cassandra_keyspace

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def readings(self, before_days: int, after_days: int) -> DataFrame:
        """Stored readings of the range widened by whole UTC days on both sides (one more
        each way for local days that start or end on another UTC day)."""
        return read_readings(
            self.spark,
            self.keyspace,
            self.first_day - timedelta(days=before_days + 1),
            self.last_day + timedelta(days=after_days + 1),
            self.meters,
        )

    def count(self, what: str, rows: int) -> None:
        self.written[what] = self.written.get(what, 0) + rows
