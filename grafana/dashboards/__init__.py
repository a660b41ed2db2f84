"""One module per dashboard; :data:`DASHBOARDS` lists them in the order of the README."""

from __future__ import annotations

from grafana.dashboards import data_quality, load_test, meter_drilldown, predictions, stream_health
from grafana.model import Dashboard

DASHBOARDS: tuple[Dashboard, ...] = (
    data_quality.DASHBOARD,
    meter_drilldown.DASHBOARD,
    stream_health.DASHBOARD,
    load_test.DASHBOARD,
    predictions.DASHBOARD,
)

TRAINING_OUTPUT: frozenset[str] = frozenset({predictions.DASHBOARD.uid})
"""Dashboards that read the training jobs' output (after ``make demo``, in the training
history's database, ``smart_meter_demo_history``)."""
