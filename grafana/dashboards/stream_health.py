"""System and Stream Health: throughput, backlog, latency, retries and load per replica."""

from __future__ import annotations

from grafana.model import Dashboard, Draw, InfluxQuery, Panel

PER_S = "* 1000 / $__interval_ms"  # a per-interval sum as a rate per second

READINGS_PER_S = Panel(
    "Readings per second: validated and stored",
    (
        InfluxQuery(
            f'SELECT sum("readings") {PER_S} AS "in", sum("stored") {PER_S} AS "stored" '
            'FROM "throughput" WHERE $timeFilter GROUP BY time($__interval) fill(none)'
        ),
    ),
    unit="reqps",
    min_interval="1m",
)

CONSUMER_LAG = Panel(
    "Consumer lag (messages waiting)",
    (
        InfluxQuery(
            'SELECT max("pending") FROM "consumer" WHERE $timeFilter '
            'GROUP BY time($__interval), "partition" fill(none)',
            alias="partition $tag_partition",
        ),
    ),
    stacked=True,
    min_interval="1m",
    description="Messages of the partition's consumer not yet delivered, after each batch.",
)

LATENCY = Panel(
    "Processing latency (publish to processed)",
    (
        InfluxQuery(
            'SELECT max("p50_ms") AS "p50", max("p99_ms") AS "p99", max("max_ms") AS "max" '
            'FROM "latency" WHERE $timeFilter GROUP BY time($__interval) fill(none)'
        ),
    ),
    unit="ms",
    min_interval="1m",
)

INGEST_LAG = Panel(
    "Ingest lag (event time to pull)",
    (
        InfluxQuery(
            'SELECT max("p50_ms") AS "p50", max("p99_ms") AS "p99" '
            'FROM "lag" WHERE $timeFilter GROUP BY time($__interval) fill(none)'
        ),
    ),
    unit="ms",
    min_interval="1m",
)

SINK_RETRIES = Panel(
    "Sink retries (since the replica started)",
    (
        InfluxQuery(
            'SELECT max("sink_retries") FROM "consumer" WHERE $timeFilter '
            'GROUP BY time($__interval), "replica" fill(none)',
            alias="$tag_replica",
        ),
    ),
    min_interval="1m",
    description="Times a batch's sinks were retried after a transient failure.",
)

REPLICA_LOAD = Panel(
    "Readings per second per replica",
    (
        InfluxQuery(
            f'SELECT sum("readings") {PER_S} FROM "throughput" WHERE $timeFilter '
            'GROUP BY time($__interval), "replica" fill(none)',
            alias="$tag_replica",
        ),
    ),
    unit="reqps",
    draw=Draw.BARS,
    stacked=True,
    min_interval="1m",
)

DASHBOARD = Dashboard(
    uid="smart-meter-stream-health",
    title="System and Stream Health",
    description="The streaming app: readings in and stored, backlog, latency, retries, replicas.",
    time_from="now-1h",
    panels=(READINGS_PER_S, CONSUMER_LAG, LATENCY, INGEST_LAG, SINK_RETRIES, REPLICA_LOAD),
)
