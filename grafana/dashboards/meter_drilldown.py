"""Meter Drill-Down: one meter (``$meter``) reading by reading, and its days, from the mart.

The meter list (meters with figures in the time range) puts those with the most gaps
first, so the default is the meter that most needs a look.
"""

from __future__ import annotations

from grafana.model import (
    Dashboard,
    Draw,
    Panel,
    PanelKind,
    SqlQuery,
    Threshold,
    Variable,
)

LOW_V, HIGH_V = 207.0, 253.0  # EN 50160: 230 V ± 10 %

METER = Variable(
    "meter",
    "Meter",
    SqlQuery(
        "SELECT m.meter_id FROM (SELECT DISTINCT meter_id FROM mart.meter_daily "
        "WHERE $__timeFilter(day::timestamp)) m "
        "LEFT JOIN mart.gaps g ON g.meter_id = m.meter_id AND $__timeFilter(g.start_ts) "
        "GROUP BY m.meter_id ORDER BY count(g.start_ts) DESC, m.meter_id"
    ),
)

CONSUMPTION = Panel(
    "Energy per interval",
    (
        SqlQuery(
            'SELECT ts AS time, energy_wh AS "energy (Wh)" FROM mart.readings '
            "WHERE meter_id = '$meter' AND $__timeFilter(ts) AND energy_wh IS NOT NULL "
            "ORDER BY 1"
        ),
    ),
    unit="watth",
    draw=Draw.BARS,
    description="Import energy since the meter's previous reading.",
)

VOLTAGE = Panel(
    "Voltage against the EN 50160 band",
    (
        SqlQuery(
            'SELECT ts AS time, voltage_min_v AS "lowest phase", '
            'voltage_max_v AS "highest phase" FROM mart.readings '
            "WHERE meter_id = '$meter' AND $__timeFilter(ts) "
            "AND voltage_min_v IS NOT NULL ORDER BY 1"
        ),
    ),
    unit="volt",
    thresholds=(Threshold(LOW_V, "red"), Threshold(HIGH_V, "red")),
    description="207 V and 253 V: the band of 230 V ± 10 %.",
)

MARKERS = Panel(
    "Gaps and late readings",
    (
        SqlQuery(
            "SELECT start_ts AS time, 'gap (missing intervals)' AS metric, "
            "coalesce(missing_intervals, 0)::double precision AS value FROM mart.gaps "
            "WHERE meter_id = '$meter' AND $__timeFilter(start_ts) "
            "UNION ALL "
            "SELECT ts AS time, 'late reading' AS metric, 1.0 AS value FROM mart.readings "
            "WHERE meter_id = '$meter' AND $__timeFilter(ts) AND lateness IN ('LATE', 'TOO_LATE') "
            "ORDER BY 1"
        ),
    ),
    draw=Draw.POINTS,
    description="A point where a gap began (height: intervals missing) and at each "
    "reading that arrived late.",
)

QUALITY = Panel(
    "Readings by quality flag and verdict",
    (
        SqlQuery(
            "SELECT date_trunc('hour', ts) AS time, "
            "coalesce(quality, '?') || ' ' || coalesce(status, '?') AS metric, "
            "count(*) AS readings FROM mart.readings "
            "WHERE meter_id = '$meter' AND $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1"
        ),
    ),
    draw=Draw.BARS,
    stacked=True,
    description="Quality A (actual), E (estimated), S (substituted) and the app's verdict.",
)

FLAGGED = Panel(
    "Flagged readings",
    (
        SqlQuery(
            "SELECT ts, quality, status, lateness, failed_rules, voltage_min_v, energy_wh "
            "FROM mart.readings WHERE meter_id = '$meter' AND $__timeFilter(ts) "
            "AND (failed_rules <> '' OR quality <> 'A' OR lateness IN ('LATE', 'TOO_LATE')) "
            "ORDER BY ts DESC LIMIT 50",
            table=True,
        ),
    ),
    kind=PanelKind.TABLE,
    width=24,
)

DAILY_ENERGY = Panel(
    "Daily energy",
    (
        SqlQuery(
            'SELECT day::timestamp AS time, energy_kwh AS "energy (kWh)" FROM mart.meter_daily '
            "WHERE meter_id = '$meter' AND $__timeFilter(day::timestamp) ORDER BY 1"
        ),
    ),
    unit="kwatth",
    draw=Draw.BARS,
)

DAILY_COST = Panel(
    "Daily cost",
    (
        SqlQuery(
            "SELECT day::timestamp AS time, cost::double precision AS cost FROM mart.meter_daily "
            "WHERE meter_id = '$meter' AND $__timeFilter(day::timestamp) ORDER BY 1"
        ),
    ),
    unit="currencyEUR",
    draw=Draw.BARS,
    description="Cost under the time-of-day tariff.",
)

DASHBOARD = Dashboard(
    uid="smart-meter-meter-drilldown",
    title="Meter Drill-Down",
    description="One meter's readings, voltage, gaps, late readings, flags, energy and cost.",
    time_from="now-24h",
    refresh="",
    variables=(METER,),
    panels=(CONSUMPTION, VOLTAGE, MARKERS, QUALITY, DAILY_ENERGY, DAILY_COST, FLAGGED),
)
