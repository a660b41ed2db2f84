"""The Spark session of the training jobs, and the checks made before starting it.

TEMPORARY: until the core's shared Spark set-up lands (``smart_meter/spark/``,
``smart_meter/reachability.py``, ``smart_meter/progress.py``), this module holds the
minimum the jobs need; it then becomes a thin call into the core.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from smart_meter.progress import Stages
from smart_meter.reachability import check_reachable
from smart_meter.settings import ConnectionSettings
from training.settings import TrainingSettings

__all__ = ["Stages", "check_servers", "spark_session"]

UP_HINT = "start it with `python start_services.py up`"


def check_servers(settings: TrainingSettings, connections: ConnectionSettings) -> None:
    for host in connections.cassandra_hosts:
        check_reachable("Cassandra", host, connections.cassandra_port, UP_HINT)
    if settings.master.startswith("spark://"):
        address = urlparse(settings.master)
        hint = "start the cluster, or run locally with --master 'local[2]'"
        check_reachable("the Spark master", address.hostname or "", address.port or 7077, hint)


def spark_session(
    settings: TrainingSettings, connections: ConnectionSettings, app_name: str
) -> SparkSession:
    check_servers(settings, connections)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.ivy_dir.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(settings.master)
        .appName(f"smart-meter {app_name}")
        .config("spark.jars.packages", settings.connector_package)
        .config("spark.jars.ivy", str(settings.ivy_dir))
        .config("spark.sql.extensions", "com.datastax.spark.connector.CassandraSparkExtensions")
        .config("spark.cassandra.connection.host", ",".join(connections.cassandra_hosts))
        .config("spark.cassandra.connection.port", str(connections.cassandra_port))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
