"""Load Test: what the injectors publish against what the app stores."""

from __future__ import annotations

from grafana.model import Dashboard, Draw, InfluxQuery, Panel

PER_S = "* 1000 / $__interval_ms"

PUBLISHED_VS_STORED = Panel(
    "Injected against stored readings per second",
    (
        InfluxQuery(
            f'SELECT sum("readings") {PER_S} FROM "injector" WHERE $timeFilter '
            "GROUP BY time($__interval) fill(none)",
            alias="injected",
        ),
        InfluxQuery(
            f'SELECT sum("stored") {PER_S} FROM "throughput" WHERE $timeFilter '
            "GROUP BY time($__interval) fill(none)",
            alias="stored",
        ),
    ),
    unit="reqps",
    width=24,
    min_interval="1m",
)

PER_INJECTOR = Panel(
    "Injected readings per second per injector replica",
    (
        InfluxQuery(
            f'SELECT sum("readings") {PER_S} FROM "injector" WHERE $timeFilter '
            'GROUP BY time($__interval), "replica" fill(none)',
            alias="injector $tag_replica",
        ),
    ),
    unit="reqps",
    draw=Draw.BARS,
    stacked=True,
    min_interval="1m",
)

LATENCY = Panel(
    "Processing latency p99 under load",
    (
        InfluxQuery(
            'SELECT max("p99_ms") FROM "latency" WHERE $timeFilter '
            "GROUP BY time($__interval) fill(none)",
            alias="p99",
        ),
    ),
    unit="ms",
    min_interval="1m",
)

DASHBOARD = Dashboard(
    uid="smart-meter-load-test",
    title="Load Test",
    description="Injector throughput per replica against readings stored by the app.",
    time_from="now-1h",
    refresh="10s",
    panels=(PUBLISHED_VS_STORED, PER_INJECTOR, LATENCY),
)
