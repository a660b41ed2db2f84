"""The Spark session of the batch jobs: local by default, any master by URL.

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
from pathlib import Path
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from batch_app.errors import check_reachable
from batch_app.settings import BatchSettings
from smart_meter.settings import ConnectionSettings

UP_HINT = "start it with `python start_services.py up`"


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
    folder = Path(tempfile.gettempdir()) / "smart-meter-batch"
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
    settings: BatchSettings, connections: ConnectionSettings, app_name: str
) -> SparkSession:
    """A session that reads and writes the platform's keyspace through the connector."""
    check_cassandra(connections)
    check_master(settings.master)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.ivy_dir.mkdir(parents=True, exist_ok=True)
    builder = (
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
    )
    credentials = connections.cassandra_credentials()
    if credentials is not None:
        builder = builder.config("spark.cassandra.auth.username", credentials.username).config(
            "spark.cassandra.auth.password", credentials.password
        )
    with output_to(spark_log(app_name.replace(" ", "-"))):
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
