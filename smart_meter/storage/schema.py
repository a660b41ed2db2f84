"""The Cassandra schema, created idempotently by whichever service starts first.

Partitions are bounded: one meter-day of readings (48 rows at half-hourly reads,
1,440 at one a minute). Rows are keyed by the natural key (meter, event time), so a
retried or redelivered write overwrites the same row instead of adding one.
"""

from __future__ import annotations

from cassandra.cluster import Session


def keyspace_cql(keyspace: str, replication: int) -> str:
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication}}}"
    )


TABLES = (
    """
    CREATE TABLE IF NOT EXISTS readings_by_meter_day (
        meter_id text,
        day date,
        ts timestamp,
        seq bigint,
        import_wh double,
        voltage_v frozen<list<double>>,
        current_a frozen<list<double>>,
        temperature_c double,
        line_id text,
        transformer_id text,
        usage_point_id text,
        quality text,
        estimation_method text,
        failed_rules frozen<set<text>>,
        lateness text,
        ingested_at timestamp,
        PRIMARY KEY ((meter_id, day), ts)
    ) WITH CLUSTERING ORDER BY (ts ASC)
    """,
)


def ensure_schema(session: Session, keyspace: str, replication: int = 1) -> None:
    """Create the keyspace and every table if missing; safe to run concurrently."""
    session.execute(keyspace_cql(keyspace, replication))
    for statement in TABLES:
        session.execute(
            statement.replace(
                "CREATE TABLE IF NOT EXISTS ", f"CREATE TABLE IF NOT EXISTS {keyspace}.", 1
            )
        )
