"""Voltage Predictions and Forecasts: the training jobs' output beside what happened."""

from __future__ import annotations

from grafana.model import Dashboard, Draw, InfluxQuery, Panel, SqlQuery, Threshold

PROBABILITY = Panel(
    "Predicted voltage-event probability per transformer",
    (
        InfluxQuery(
            'SELECT max("probability") FROM "transformer_voltage_prediction" WHERE $timeFilter '
            'GROUP BY time($__interval), "transformer_id" fill(none)',
            alias="$tag_transformer_id",
        ),
    ),
    unit="percentunit",
    thresholds=(Threshold(0.5, "orange"),),
    description="Highest probability over the transformer's meters that a voltage event "
    "starts within the model's horizon.",
)

EVENTS = Panel(
    "Actual voltage events per transformer",
    (
        SqlQuery(
            "SELECT date_trunc('hour', a.start_ts) AS time, d.transformer_id AS metric, "
            "count(*) AS events FROM mart.alerts a JOIN mart.meter_daily d "
            "ON d.meter_id = a.meter_id AND d.day = a.day "
            "WHERE a.kind = 'voltage' AND $__timeFilter(a.start_ts) GROUP BY 1, 2 ORDER BY 1"
        ),
    ),
    draw=Draw.BARS,
    stacked=True,
)

FORECAST = Panel(
    "Forecast against actual consumption per transformer",
    (
        InfluxQuery(
            'SELECT sum("kwh") FROM "consumption_forecast" WHERE $timeFilter '
            'AND "series" = \'transformer\' GROUP BY time(30m), "transformer_id" fill(none)',
            alias="forecast $tag_transformer_id",
        ),
        InfluxQuery(
            'SELECT sum("energy_mwh") / 1000000 FROM "transformer_load" WHERE $timeFilter '
            'GROUP BY time(30m), "transformer_id" fill(none)',
            alias="actual $tag_transformer_id",
        ),
    ),
    unit="kwatth",
    width=24,
    description="Energy per half-hour: the day-ahead forecast and the batch's load.",
)

DASHBOARD = Dashboard(
    uid="smart-meter-predictions",
    title="Voltage Predictions and Forecasts",
    description="Voltage-event probabilities against events, consumption forecasts against load.",
    time_from="now-2d",
    time_to="now+1d",
    refresh="",
    panels=(PROBABILITY, EVENTS, FORECAST),
)
