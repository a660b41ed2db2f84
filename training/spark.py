"""The Spark session of the training jobs: the core's, with the training settings."""

from __future__ import annotations

from pyspark.sql import SparkSession

from smart_meter.progress import Stages
from smart_meter.settings import ConnectionSettings
from smart_meter.spark.session import SparkOptions
from smart_meter.spark.session import spark_session as core_session
from training.settings import TrainingSettings

__all__ = ["Stages", "spark_session"]


def spark_session(
    settings: TrainingSettings, connections: ConnectionSettings, app_name: str
) -> SparkSession:
    """Checks Cassandra (and a ``spark://`` master) answer, then starts or reuses Spark."""
    options = SparkOptions(
        master=settings.master,
        driver_memory=settings.driver_memory,
        shuffle_partitions=settings.shuffle_partitions,
        connector_package=settings.connector_package,
        ivy_dir=settings.ivy_dir,
    )
    return core_session(options, connections, app_name)
