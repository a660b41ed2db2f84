"""The Spark session of the batch and training jobs: local by default, any master by URL.

The Spark Cassandra Connector comes through ``spark.jars.packages`` (Ivy keeps its jars
in the project's cache folder, so only the first run downloads them) and its SQL
extensions (push-down of partition-key filters and direct joins). Python workers run
this interpreter, so they have the same packages as the driver.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from smart_meter.reachability import check_reachable
from smart_meter.settings import ConnectionSettings

UP_HINT = "start it with `python start_services.py up`"
CONNECTOR_PACKAGE = "com.datastax.spark:spark-cassandra-connector_2.12:3.5.1"
"""The Spark Cassandra Connector for Spark 3.5 (there is none for Spark 4)."""


@dataclass(frozen=True)
class SparkOptions:
    """Where Spark runs and with what; each job's settings make one of these."""

    master: str = "local[2]"
    driver_memory: str = "2g"
    shuffle_partitions: int = 8
    connector_package: str = CONNECTOR_PACKAGE
    ivy_dir: Path | None = None


def check_cassandra(connections: ConnectionSettings) -> None:
    for host in connections.cassandra_hosts:
        check_reachable("Cassandra", host, connections.cassandra_port, UP_HINT)


def check_master(master: str) -> None:
    if master.startswith("spark://"):
        address = urlparse(master)
        check_reachable(
            "the Spark master",
            address.hostname or "",
            address.port or 7077,
            "start the cluster, or run locally with --master 'local[2]'",
        )


def spark_log(app_name: str) -> Path:
    folder = Path(tempfile.gettempdir()) / "smart-meter-spark"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"spark-{app_name}-{os.getpid()}.log"


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send file descriptors 1 and 2 to ``path`` meanwhile: the JVM that Spark starts
    inherits them, so Ivy's resolution report and Spark's warnings go to the log, not
    the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        for fd, copy in enumerate(saved, start=1):
            os.dup2(copy, fd)
            os.close(copy)


def spark_session(
    options: SparkOptions, connections: ConnectionSettings, app_name: str
) -> SparkSession:
    """A session that reads and writes the platform's keyspace through the connector."""
    check_cassandra(connections)
    check_master(options.master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(options.master)
        .appName(f"smart-meter {app_name}")
        .config("spark.jars.packages", options.connector_package)
        .config("spark.sql.extensions", "com.datastax.spark.connector.CassandraSparkExtensions")
        .config("spark.cassandra.connection.host", ",".join(connections.cassandra_hosts))
        .config("spark.cassandra.connection.port", str(connections.cassandra_port))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(options.shuffle_partitions))
        .config("spark.driver.memory", options.driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if options.ivy_dir is not None:
        options.ivy_dir.mkdir(parents=True, exist_ok=True)
        builder = builder.config("spark.jars.ivy", str(options.ivy_dir))
    credentials = connections.cassandra_credentials()
    if credentials is not None:
        builder = builder.config("spark.cassandra.auth.username", credentials.username).config(
            "spark.cassandra.auth.password", credentials.password
        )
    with output_to(spark_log(app_name.replace(" ", "-"))):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
