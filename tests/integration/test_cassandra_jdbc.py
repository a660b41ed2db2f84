"""The README's JDBC route to Cassandra: ``com.ing.data:cassandra-jdbc-wrapper`` 4.16.3 from
Maven Central, and ``excel/jdbc/CqlQuery.java`` (run by the JDK as a single source file)
selecting a meter-day of readings, which come back as the Python driver reads them."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smart_meter.settings import ConnectionSettings, default_cache_dir
from stack.java import classpath, java_binary, resolve_jars
from tests.batch_support import insert_actual_readings, select

pytestmark = pytest.mark.integration

WRAPPER = "com.ing.data:cassandra-jdbc-wrapper:4.16.3"
QUERY_SOURCE = Path(__file__).resolve().parents[2] / "excel" / "jdbc" / "CqlQuery.java"
DAY = date(2024, 4, 2)


def test_a_select_through_the_jdbc_wrapper_returns_cassandras_rows(
    connections: ConnectionSettings,
) -> None:
    meter = f"JDBC{uuid.uuid4().hex[:8]}"
    start = datetime(2024, 4, 2, tzinfo=UTC)
    times = [start + timedelta(minutes=30 * n) for n in range(6)]
    insert_actual_readings(
        connections,
        [(meter, int(t.timestamp() * 1000), 1000.0 + 125 * n, "T1") for n, t in enumerate(times)],
    )
    try:
        jars = resolve_jars("cassandra-jdbc", [WRAPPER], default_cache_dir() / "cassandra-jdbc")
        url = (
            f"jdbc:cassandra://{connections.cassandra_hosts[0]}:{connections.cassandra_port}/"
            f"{connections.cassandra_keyspace}?localdatacenter=datacenter1"
        )
        query = (
            "SELECT meter_id, import_wh, quality FROM readings_by_meter_day "
            f"WHERE meter_id = '{meter}' AND day = '{DAY}'"
        )
        java = java_binary("cassandra-jdbc", 17)
        result = subprocess.run(
            [java, "-cp", classpath(jars), str(QUERY_SOURCE), url, query],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        header, *lines = result.stdout.strip().splitlines()
        assert header.split("\t") == ["meter_id", "import_wh", "quality"]
        stored = select(
            connections,
            "SELECT meter_id, import_wh, quality FROM readings_by_meter_day "
            "WHERE meter_id = ? AND day = ?",
            [(meter, DAY)],
        )
        assert [line.split("\t") for line in lines] == [
            [r.meter_id, str(r.import_wh), r.quality] for r in stored
        ]
        assert len(lines) == len(times)
    finally:
        select(
            connections,
            "DELETE FROM readings_by_meter_day WHERE meter_id = ? AND day = ?",
            [(meter, DAY)],
        )
