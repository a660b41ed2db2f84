"""Each of the four servers is real: write through it and read back."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from stack.manager import LocalStack

pytestmark = pytest.mark.integration


async def test_jetstream_publish_with_same_dedup_id_is_stored_once(
    connections: ConnectionSettings,
) -> None:
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    stream = f"T{uuid.uuid4().hex[:8]}"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"], duplicate_window=60)
    try:
        acks = [
            await js.publish(f"{stream}.r", b"reading", headers={"Nats-Msg-Id": "M1@1000"})
            for _ in range(3)
        ]
        other = await js.publish(f"{stream}.r", b"reading", headers={"Nats-Msg-Id": "M1@2000"})
        info = await js.stream_info(stream)
    finally:
        await js.delete_stream(stream)
        await nc.close()
    assert [ack.duplicate for ack in acks] == [None, True, True]
    assert other.seq == 2
    assert info.state.messages == 2


def test_cql_insert_then_select_returns_the_row(connections: ConnectionSettings) -> None:
    session = open_session(connections)
    try:
        session.execute(
            "CREATE TABLE IF NOT EXISTS stack_probe (id text PRIMARY KEY, value double)"
        )
        key = uuid.uuid4().hex
        session.execute("INSERT INTO stack_probe (id, value) VALUES (%s, %s)", (key, 230.5))
        row = session.execute("SELECT value FROM stack_probe WHERE id = %s", (key,)).one()
        version = session.execute("SELECT release_version FROM system.local").one()[0]
    finally:
        session.cluster.shutdown()
    assert row[0] == 230.5
    assert version.startswith("5.0")


def test_kafka_produce_then_consume_returns_every_message_in_order(
    connections: ConnectionSettings,
) -> None:
    topic = f"probe-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": connections.kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)
    producer = Producer(
        {"bootstrap.servers": connections.kafka_bootstrap, "enable.idempotence": True}
    )
    for i in range(50):
        producer.produce(topic, key=b"M1", value=str(i).encode())
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": connections.kafka_bootstrap,
            "group.id": topic,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    values: list[int] = []
    try:
        while len(values) < 50:
            msg = consumer.poll(30)
            assert msg is not None, f"no message after {len(values)}"
            assert msg.error() is None, msg.error()
            values.append(int(msg.value() or b"-1"))
    finally:
        consumer.close()
        admin.delete_topics([topic])
    assert values == list(range(50))


def influxql(base_url: str, statement: str, database: str = "") -> dict[str, Any]:
    """Run one InfluxQL statement over the v1 ``/query`` endpoint."""
    body = urllib.parse.urlencode({"q": statement, "db": database}).encode()
    with urllib.request.urlopen(f"{base_url}/query", data=body, timeout=10) as reply:
        return dict(json.load(reply))


def test_influxdb_line_protocol_write_then_influxql_query(connections: ConnectionSettings) -> None:
    base, database = connections.influxdb_url, f"probe_{uuid.uuid4().hex[:8]}"
    influxql(base, f"CREATE DATABASE {database}")
    try:
        stamp = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
        lines = "\n".join(f"probe,meter=M{i} voltage={230 + i} {stamp + i}" for i in range(3))
        request = urllib.request.Request(
            f"{base}/write?db={database}&precision=s", data=lines.encode()
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 204
        result = influxql(base, "SELECT sum(voltage), count(voltage) FROM probe", database)
    finally:
        influxql(base, f"DROP DATABASE {database}")
    assert result["results"][0]["series"][0]["values"][0][1:] == [693.0, 3]


def test_influxdb_client_v2_write_api_lands_in_the_v1_database(
    connections: ConnectionSettings,
) -> None:
    base, database = connections.influxdb_url, f"probe_{uuid.uuid4().hex[:8]}"
    influxql(base, f"CREATE DATABASE {database}")
    client = InfluxDBClient(url=base, token="", org="-")
    try:
        writer = client.write_api(write_options=SYNCHRONOUS)
        writer.write(
            bucket=f"{database}/autogen",
            record="probe,meter=M1 energy_wh=12.5 1704067200000000000",
        )
        result = influxql(base, "SELECT energy_wh FROM probe", database)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        influxql(base, f"DROP DATABASE {database}")
    assert result["results"][0]["series"][0]["values"] == [["2024-01-01T00:00:00Z", 12.5]]


def test_every_server_is_reported_healthy_by_status(stack: LocalStack) -> None:
    statuses = LocalStack().status()
    assert [s.name for s in statuses] == ["nats", "cassandra", "kafka", "influxdb", "postgres"]
    assert all(s.healthy for s in statuses), [s.line() for s in statuses]
