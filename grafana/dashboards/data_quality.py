"""Data Quality Overview: what the streaming app made of the readings, and what the batch
found missing, fleet-wide."""

from __future__ import annotations

from grafana.model import Dashboard, Draw, InfluxQuery, Panel, PanelKind, SqlQuery

ACTIVE_METERS = Panel(
    "Active meters per day",
    (
        SqlQuery(
            "SELECT day::timestamp AS time, count(DISTINCT meter_id) AS meters "
            "FROM mart.meter_daily WHERE $__timeFilter(day::timestamp) GROUP BY day ORDER BY 1"
        ),
    ),
    draw=Draw.BARS,
    description="Meters with at least one stored reading in the day (mart.meter_daily).",
)

READINGS_BY_STATUS = Panel(
    "Readings per minute by verdict",
    (
        InfluxQuery(
            'SELECT sum("count") FROM "pipeline" WHERE $timeFilter '
            'GROUP BY time($__interval), "status" fill(none)',
            alias="$tag_status",
        ),
    ),
    draw=Draw.BARS,
    stacked=True,
    min_interval="1m",
    description="Readings the streaming app validated, by verdict; dead letters too.",
)

RULE_FAILURES = Panel(
    "Rule failures",
    (
        InfluxQuery(
            'SELECT sum("failures") FROM "rules" WHERE $timeFilter '
            'GROUP BY time($__interval), "rule" fill(none)',
            alias="$tag_rule",
        ),
    ),
    draw=Draw.BARS,
    stacked=True,
    min_interval="1m",
)

MISSING_INTERVALS = Panel(
    "Missing intervals found",
    (
        InfluxQuery(
            'SELECT sum("missing") FROM "completeness" WHERE $timeFilter '
            "GROUP BY time($__interval) fill(none)",
            alias="missing intervals",
        ),
    ),
    draw=Draw.BARS,
    min_interval="1m",
    description="Intervals of the gaps the gap rule closed (streaming, per minute).",
)

LATE_SHARE = Panel(
    "Late share",
    (
        InfluxQuery(
            'SELECT (sum("late") + sum("too_late")) / sum("readings") FROM "throughput" '
            "WHERE $timeFilter GROUP BY time($__interval) fill(none)",
            alias="late / all",
        ),
    ),
    unit="percentunit",
    min_interval="1m",
)

DEAD_LETTERS = Panel(
    "Dead letters by reason",
    (
        InfluxQuery(
            'SELECT sum("count") FROM "dead_letters" WHERE $timeFilter '
            'GROUP BY time($__interval), "reason" fill(none)',
            alias="$tag_reason",
        ),
    ),
    draw=Draw.BARS,
    stacked=True,
    min_interval="1m",
)

COMPLETENESS = Panel(
    "Completeness per day",
    (
        SqlQuery(
            "SELECT day::timestamp AS time, "
            "sum(received)::double precision / NULLIF(sum(expected), 0) AS completeness "
            "FROM mart.completeness WHERE $__timeFilter(day::timestamp) GROUP BY day ORDER BY 1"
        ),
    ),
    unit="percentunit",
    draw=Draw.BARS,
    description="Received over expected intervals of the whole fleet (batch).",
)

TOP_GAPS = Panel(
    "Top meters by gaps",
    (
        SqlQuery(
            "SELECT meter_id, count(*) AS gaps, sum(missing_intervals) AS missing_intervals "
            "FROM mart.gaps WHERE $__timeFilter(start_ts) GROUP BY meter_id "
            "ORDER BY missing_intervals DESC NULLS LAST, gaps DESC, meter_id LIMIT 10",
            table=True,
        ),
    ),
    kind=PanelKind.TABLE,
)

DASHBOARD = Dashboard(
    uid="smart-meter-data-quality",
    title="Data Quality Overview",
    description="Verdicts, rule failures, gaps, lateness and dead letters across the fleet.",
    time_from="now-24h",
    panels=(
        ACTIVE_METERS,
        COMPLETENESS,
        READINGS_BY_STATUS,
        RULE_FAILURES,
        MISSING_INTERVALS,
        LATE_SHARE,
        DEAD_LETTERS,
        TOP_GAPS,
    ),
)
