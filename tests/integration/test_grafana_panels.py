"""Every panel of the provisioned dashboards returns data after a real pipeline run.

Grafana itself cannot run here (no package or image of it can be installed), so this
test does what its InfluxQL and PostgreSQL datasources do with each panel: the macros
(``$timeFilter``, ``$__interval``, ``$__interval_ms``, ``$__timeFilter()``) and the
variables (``$meter``, at the first value its own query returns) are expanded as Grafana
expands them over the dashboard's default time range (:mod:`grafana.macros`), and the
query runs against the real InfluxDB and the real PostgreSQL mart.

The data comes from the demo's own code path on a small fleet under a deployment name of
its own (injector with its metrics, streaming app replicas as processes), then every
batch job over the demo's days, which refreshes the mart for those days.

The Voltage Predictions and Forecasts dashboard reads the training jobs' output: its
data comes from the demo's training part on a small history of its own (half-hourly
meters under grid stress through JetStream and the app, the voltage classifiers trained
and each hour of the last day scored, the forecast of the next day, the batch jobs over
the last two days), and its queries run against that history's InfluxDB database, as a
Grafana pointed at that deployment would. No stand-in data is written for any panel.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from demo.batch import run_batch
from demo.deployment import DemoDeployment
from demo.history import HistoryOptions, build_history
from demo.run import DemoOptions, DemoRun, run_demo
from demo.training import DemoTraining, run_training_part
from grafana.dashboards import (
    DASHBOARDS,
    TRAINING_OUTPUT,
    load_test,
    meter_drilldown,
    predictions,
    stream_health,
)
from grafana.model import Dashboard, Panel
from grafana.queries import Datasources, PanelResult, run_dashboard
from grafana.snapshot import snapshot
from smart_meter.settings import ConnectionSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3_600)]  # demo, history, jobs

NAME = "grafanapanels"
# The training history: 5 meters a transformer; 24 days leave the forecast job 17 days
# to fit on before the 7 it scores, and the classifier its 60/20/20 split.
HISTORY_METERS, HISTORY_DAYS = 25, 24


@pytest.fixture(scope="module")
def demo_connections(connections: ConnectionSettings) -> ConnectionSettings:
    """The demo deployment's keyspace and InfluxDB database; the shared mart."""
    return DemoDeployment(NAME).connections(connections)


@pytest.fixture(scope="module")
def demo_run(
    connections: ConnectionSettings,
    demo_connections: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> DemoRun:
    """The demo (60 meters, 40 one-minute intervals, every fault kind), then every batch
    job over its days."""
    out_dir = tmp_path_factory.mktemp("grafana-demo")
    options = DemoOptions(meters=60, intervals=40, name=NAME, out_dir=out_dir)
    run = asyncio.run(run_demo(options, connections))
    run_batch(demo_connections, run.start.date(), run.last.date())
    return run


@pytest.fixture(scope="module")
def training_run(
    connections: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> DemoTraining:
    """The demo's training part on a history of this test's own."""
    out_dir = tmp_path_factory.mktemp("grafana-history")
    options = HistoryOptions(meters=HISTORY_METERS, days=HISTORY_DAYS, name=NAME, out_dir=out_dir)
    history = asyncio.run(build_history(options, connections))
    return run_training_part(history, out_dir / "models")


Results = dict[str, tuple[dict[str, str], list[PanelResult]]]


def reads_training_output(dashboard: Dashboard) -> bool:
    return dashboard.uid in TRAINING_OUTPUT


def _run_dashboards(connections: ConnectionSettings, training: bool) -> Results:
    sources = Datasources(connections)
    try:
        now = datetime.now(UTC)
        chosen = [d for d in DASHBOARDS if reads_training_output(d) == training]
        return {d.uid: run_dashboard(d, sources, now) for d in chosen}
    finally:
        sources.close()


@pytest.fixture(scope="module")
def demo_results(demo_connections: ConnectionSettings, demo_run: DemoRun) -> Results:
    """The demo's dashboards, queried right after the demo (their ranges end now)."""
    return _run_dashboards(demo_connections, training=False)


@pytest.fixture(scope="module")
def results(demo_results: Results, training_run: DemoTraining) -> Results:
    return demo_results | _run_dashboards(training_run.history.connections, training=True)


def panel(results: Results, dashboard: Dashboard, wanted: Panel) -> PanelResult:
    return next(r for r in results[dashboard.uid][1] if r.panel == wanted)


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda d: d.uid)
def test_every_panel_query_returns_series_with_points(
    dashboard: Dashboard, results: Results
) -> None:
    values, panel_results = results[dashboard.uid]
    checked, failed = [], []
    for result in panel_results:
        title = result.panel.title
        for one in result.results:
            checked.append(f"{title}: {one.points()} points")
            if one.points() == 0:
                failed.append(f"{title}: no points from {one.sent}")
    source = "training history" if reads_training_output(dashboard) else "demo"
    print(f"\n{dashboard.title} ({source}) {values or ''}")
    for line in checked:
        print(f"  checked   {line}")
    assert not failed, failed
    assert checked


def test_the_drilldown_meter_is_a_demo_meter_with_gaps(results: Results, demo_run: DemoRun) -> None:
    values, _ = results[meter_drilldown.DASHBOARD.uid]
    assert values["meter"] in demo_run.transformer_of
    markers = panel(results, meter_drilldown.DASHBOARD, meter_drilldown.MARKERS)
    assert any(s.name.startswith("gap") and s.points() for s in markers.results[0].series)


def test_voltage_panel_shows_the_meters_readings_and_the_band(results: Results) -> None:
    voltage = panel(results, meter_drilldown.DASHBOARD, meter_drilldown.VOLTAGE)
    lowest = voltage.results[0].series[0]
    assert lowest.points() >= 30  # about one per interval of the 40
    assert [t.value for t in voltage.panel.thresholds] == [207.0, 253.0]


def test_readings_stored_per_second_add_up_to_what_the_demo_stored(
    results: Results, demo_run: DemoRun
) -> None:
    """The panel's rate times its interval, summed, is the count of stored readings."""
    rate = panel(results, stream_health.DASHBOARD, stream_health.READINGS_PER_S).results[0]
    [stored] = [s for s in rate.series if s.name.startswith("stored")]
    match = re.search(r"\* 1000 / (\d+)", rate.sent)
    assert match is not None, rate.sent
    total = sum(v or 0 for v in stored.values) * int(match.group(1)) / 1000
    assert round(total) == demo_run.stored.readings


def test_the_load_test_sets_injected_against_stored(results: Results, demo_run: DemoRun) -> None:
    injected, stored = panel(results, load_test.DASHBOARD, load_test.PUBLISHED_VS_STORED).results
    rate_ms = int(re.findall(r"\* 1000 / (\d+)", injected.sent)[0])
    injected_total = sum(v or 0 for s in injected.series for v in s.values) * rate_ms / 1000
    stored_total = sum(v or 0 for s in stored.series for v in s.values) * rate_ms / 1000
    assert round(injected_total) == demo_run.injected.readings_published
    assert round(stored_total) == demo_run.stored.readings


def test_the_predictions_dashboard_shows_every_transformer_of_the_history(
    results: Results, training_run: DemoTraining
) -> None:
    """Probabilities for each hour of the last day and a forecast, per transformer."""
    assert training_run.prediction["hours_scored"] == 24
    [probability] = panel(results, predictions.DASHBOARD, predictions.PROBABILITY).results
    transformers = {s.name for s in probability.series}
    assert len(transformers) == HISTORY_METERS // 5
    forecast, actual = panel(results, predictions.DASHBOARD, predictions.FORECAST).results
    assert {s.name.removeprefix("forecast ") for s in forecast.series} == transformers
    assert {s.name.removeprefix("actual ") for s in actual.series} == transformers


def test_snapshot_draws_every_dashboard(
    demo_connections: ConnectionSettings,
    demo_run: DemoRun,
    training_run: DemoTraining,
    tmp_path: Path,
) -> None:
    written = snapshot(demo_connections, tmp_path, training=training_run.history.connections)
    assert [p.name for p in written] == [f"{d.uid}.png" for d in DASHBOARDS]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)
