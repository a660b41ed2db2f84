"""The Spark side reads tables created after its connector first met Cassandra.

A Spark application keeps the connector's Cassandra sessions, and their schema metadata,
from one job to the next; a keyspace the Python driver creates afterwards (as a batch
job's ``ensure_tables`` or a test does) was once unknown to it ("Couldn't find ...").
"""

from __future__ import annotations

import uuid

import pytest

from smart_meter.settings import ConnectionSettings
from smart_meter.spark.cassandra import table
from smart_meter.spark.session import spark_session
from smart_meter.storage.session import open_session
from tests.batch_support import UTC_SETTINGS

pytestmark = pytest.mark.integration


def test_a_keyspace_created_after_the_connector_met_cassandra_is_read(
    connections: ConnectionSettings,
) -> None:
    spark = spark_session(UTC_SETTINGS.spark_options(), connections, "tables-test")
    open_session(connections, create_schema=True, bind=False).cluster.shutdown()
    assert table(spark, connections.cassandra_keyspace, "readings_by_meter_day").columns
    fresh = connections.model_copy(update={"cassandra_keyspace": f"late_{uuid.uuid4().hex[:8]}"})
    session = open_session(fresh, create_schema=True, bind=False)
    try:
        frame = table(spark, fresh.cassandra_keyspace, "readings_by_meter_day")
        assert frame.count() == 0
        assert "meter_id" in frame.columns
    finally:
        session.execute(f"DROP KEYSPACE {fresh.cassandra_keyspace}")
        session.cluster.shutdown()


def test_a_table_that_does_not_exist_is_still_an_error(connections: ConnectionSettings) -> None:
    spark = spark_session(UTC_SETTINGS.spark_options(), connections, "tables-test")
    with pytest.raises(Exception, match="Couldn't find"):
        table(spark, connections.cassandra_keyspace, "no_such_table")
