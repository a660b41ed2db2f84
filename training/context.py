"""What every training job is given: Spark, the settings, the range, where to say progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import SparkSession

from smart_meter.settings import ConnectionSettings
from training.settings import TrainingSettings

Say = Callable[[str], None]


@dataclass
class TrainingContext:
    """One run of one or more jobs over UTC days ``first_day..last_day``."""

    spark: SparkSession
    settings: TrainingSettings
    connections: ConnectionSettings
    first_day: date
    last_day: date
    meters: Sequence[str] | None = None
    say: Say = print
    written: dict[str, int] = field(default_factory=dict)

    @property
    def keyspace(self) -> str:
        return self.connections.cassandra_keyspace

    def count(self, what: str, rows: int) -> None:
        self.written[what] = self.written.get(what, 0) + rows
