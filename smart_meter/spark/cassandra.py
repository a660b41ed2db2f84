"""Reading the platform's tables through the Spark Cassandra Connector.

Readings are stored a meter-day (UTC) per partition. With ``--meters`` both partition-key
columns are restricted by ``IN`` lists, which the connector pushes down: Spark reads only
those partitions. Without it the job scans the table by token range (the normal way to
read a whole table from Cassandra) and filters the days on the way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, timedelta

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"
READING_COLUMNS = (
    "meter_id", "day", "ts", "transformer_id", "line_id", "import_wh", "temperature_c",
    "voltage_v", "quality", "estimation_method", "failed_rules", "status",
)  # fmt: skip


SCHEMA_WAIT_S = 30.0
"""How long a table just created (by the Python driver) may stay unseen by the connector."""


def table(spark: SparkSession, keyspace: str, name: str) -> DataFrame:
    """The table as a DataFrame. The connector keeps its Cassandra sessions, and their
    schema metadata, between jobs of one Spark application: a keyspace or table created
    since may be unknown to it for a moment. Then its sessions are dropped (the next
    use opens one with fresh metadata) and the read is tried again, for a bounded time."""
    deadline = time.monotonic() + SCHEMA_WAIT_S
    while True:
        try:
            return spark.read.format(CASSANDRA_FORMAT).options(keyspace=keyspace, table=name).load()
        except AnalysisException as error:
            if "Couldn't find" not in str(error) or time.monotonic() > deadline:
                raise
            _forget_connector_sessions(spark)
            time.sleep(0.5)


def _forget_connector_sessions(spark: SparkSession) -> None:
    jvm = spark.sparkContext._jvm  # py4j: the connector has no Python API
    if jvm is not None:
        jvm.com.datastax.spark.connector.cql.CassandraConnector.evictCache()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_filter(column: str, first: date, last: date, meters: Sequence[str] | None) -> Column:
    """``IN`` lists when the meters are known (pushed down as partition keys), else a range."""
    if meters:
        return F.col(column).isin(days_between(first, last))
    return F.col(column).between(F.lit(first), F.lit(last))


def read_readings(
    spark: SparkSession,
    keyspace: str,
    first_day: date,
    last_day: date,
    meters: Sequence[str] | None = None,
) -> DataFrame:
    """Stored readings (actual and estimated) of UTC days ``first_day..last_day``, with
    ``ts_ms`` (epoch milliseconds) added."""
    readings = table(spark, keyspace, "readings_by_meter_day").select(*READING_COLUMNS)
    if meters:
        readings = readings.where(F.col("meter_id").isin(list(meters)))
    readings = readings.where(day_filter("day", first_day, last_day, meters))
    return readings.withColumn("ts_ms", (F.unix_micros("ts") / 1000).cast("long"))


def read_range(
    spark: SparkSession,
    keyspace: str,
    name: str,
    key: str,
    first: date,
    last: date,
    meters: Sequence[str] | None = None,
) -> DataFrame:
    """Rows of a batch table keyed by ``(meter, month)`` partitions, for days first..last."""
    rows = table(spark, keyspace, name)
    if meters:
        months = sorted({d.replace(day=1) for d in days_between(first, last)})
        rows = rows.where(F.col(key).isin(list(meters)) & F.col("month").isin(months))
    return rows.where(F.col("day").between(F.lit(first), F.lit(last)))


def write_table(
    frame: DataFrame, keyspace: str, name: str, timestamp_us: int | None = None
) -> None:
    """Append (upsert) rows; ``timestamp_us`` writes them with that write time, so a row
    written later by anyone else (with the current time) wins over them."""
    writer = frame.write.format(CASSANDRA_FORMAT).options(keyspace=keyspace, table=name)
    if timestamp_us is not None:
        writer = writer.option("spark.cassandra.output.timestamp", str(timestamp_us))
    writer.mode("append").save()
