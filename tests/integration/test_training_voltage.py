"""The voltage-event classifier end to end: a 40-meter fleet under grid stress with
voltage faults, three weeks half-hourly, stored through the streaming app's validation and
Cassandra sink (so the events are the app's), trained with local Spark against the real
Cassandra, predictions written to Cassandra and InfluxDB and read back."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas.testing
import pytest
from pyspark.sql import SparkSession

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from tests.voltage_fleet import VoltageFleet, store_voltage_fleet
from training.api import TrainingReport, run_training
from training.cli import main
from training.context import TrainingContext
from training.errors import FeatureSetMismatchError
from training.jobs.predict_voltage_job import load_chosen
from training.settings import TrainingSettings
from training.voltage import predictions, registry, source
from training.voltage.dataset import collect_features
from training.voltage.labels import HOUR_MS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2_400)]

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS, METERS, PER_TRANSFORMER = 21, 40, 3
SCORED_HOURS = 6  # predict-voltage backfills each meter's last 6 hours


@dataclass(frozen=True)
class Trained:
    connections: ConnectionSettings
    settings: TrainingSettings
    fleet: VoltageFleet
    training: TrainingReport
    prediction: TrainingReport


def _influx(connections: ConnectionSettings, query: str) -> list[Any]:
    params = urllib.parse.urlencode({"db": connections.influxdb_database, "q": query})
    with urllib.request.urlopen(f"{connections.influxdb_url}/query?{params}", timeout=60) as r:
        body = json.load(r)
    return list(body["results"][0].get("series", []))


def _drop(connections: ConnectionSettings) -> None:
    session = open_session(connections, create_schema=False, bind=False)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {connections.cassandra_keyspace}", timeout=120)
    finally:
        session.cluster.shutdown()
    body = urllib.parse.urlencode({"q": f'DROP DATABASE "{connections.influxdb_database}"'})
    with urllib.request.urlopen(
        f"{connections.influxdb_url}/query", data=body.encode(), timeout=60
    ):
        pass


@pytest.fixture(scope="module")
def trained(
    connections: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trained]:
    name = f"tv{uuid.uuid4().hex[:8]}"
    own = connections.model_copy(
        update={"cassandra_keyspace": f"smart_meter_{name}", "influxdb_database": name}
    )
    try:
        fleet = asyncio.run(
            store_voltage_fleet(own, START, 48 * DAYS, PER_TRANSFORMER, meters=METERS)
        )
        settings = TrainingSettings(
            model_dir=tmp_path_factory.mktemp("models"), master="local[2]", driver_memory="2g"
        )
        first, last = fleet.first_day, fleet.last_day
        training = run_training(
            "voltage", first, last, settings=settings, connections=own, quiet=True
        )
        prediction = run_training(
            "predict-voltage", last, last, quiet=True, connections=own,
            settings=settings.model_copy(update={"score_hours": SCORED_HOURS}),
        )  # fmt: skip
        yield Trained(own, settings, fleet, training, prediction)
    finally:
        _drop(own)


def _spark() -> SparkSession:
    spark = SparkSession.getActiveSession()
    assert spark is not None
    return spark


def test_the_split_never_mixes_periods(trained: Trained) -> None:
    summary = trained.training.summaries["voltage"]
    spans, horizon_ms = summary["spans"], trained.settings.horizon_hours * HOUR_MS
    assert spans["train"][1] + HOUR_MS + horizon_ms <= spans["valid"][0]
    assert spans["valid"][1] + HOUR_MS + horizon_ms <= spans["test"][0]
    assert min(summary["positives"].values()) >= trained.settings.min_events


def test_the_chosen_model_beats_persistence_and_the_seed_mlp_on_test_f1(trained: Trained) -> None:
    summary = trained.training.summaries["voltage"]
    test = summary["test"]
    chosen = test[summary["chosen"]]["f1"]
    assert chosen > test["persistence"]["f1"], test
    assert chosen > test["seed_mlp"]["f1"], test


def test_predictions_land_in_cassandra_and_influxdb(trained: Trained) -> None:
    meters, transformers = trained.fleet.meters, trained.fleet.transformers
    session = open_session(trained.connections)
    try:
        latest = list(
            session.execute(
                "SELECT meter_id, hour_ts, model, version FROM voltage_prediction_latest"
            )
        )
        history = list(session.execute("SELECT meter_id, hour_ts FROM voltage_prediction_by_day"))
    finally:
        session.cluster.shutdown()
    summary = trained.prediction.summaries["predict-voltage"]
    assert sorted(r.meter_id for r in latest) == meters
    assert {(r.model, r.version) for r in latest} == {(summary["model"], summary["version"])}
    assert summary["hours_scored"] == SCORED_HOURS
    assert Counter(r.meter_id for r in history) == dict.fromkeys(meters, SCORED_HOURS)
    newest: dict[str, datetime] = {}
    for row in history:
        newest[row.meter_id] = max(row.hour_ts, newest.get(row.meter_id, row.hour_ts))
    assert {r.meter_id: r.hour_ts for r in latest} == newest  # each meter's newest hour
    per_meter = _influx(
        trained.connections, "SELECT count(probability) FROM voltage_prediction GROUP BY meter_id"
    )
    assert {s["tags"]["meter_id"]: s["values"][0][1] for s in per_meter} == dict.fromkeys(
        meters, SCORED_HOURS
    )
    per_tx = _influx(
        trained.connections,
        "SELECT count(probability), max(predicted) FROM transformer_voltage_prediction "
        "GROUP BY transformer_id",
    )
    assert {s["tags"]["transformer_id"]: s["values"][0][1] for s in per_tx} == dict.fromkeys(
        transformers, SCORED_HOURS
    )


def test_a_reloaded_model_reproduces_the_written_probabilities(trained: Trained) -> None:
    last = trained.fleet.last_day
    context = TrainingContext(
        _spark(), trained.settings, trained.connections, last, last, say=lambda _: None
    )
    saved = load_chosen(context)
    first = last - timedelta(days=trained.settings.history_days)
    window = (first, last, None)
    frame = collect_features(
        source.readings(context.spark, context.keyspace, *window),
        source.episodes(context.spark, context.keyspace, *window),
    )
    again = predictions.score(saved, predictions.latest_hours(frame)).set_index("meter_id")
    session = open_session(trained.connections)
    try:
        rows = list(session.execute("SELECT meter_id, probability FROM voltage_prediction_latest"))
    finally:
        session.cluster.shutdown()
    for row in rows:
        assert again.loc[row.meter_id, "probability"] == pytest.approx(row.probability, abs=1e-6)


def test_a_model_loaded_with_another_feature_set_is_refused(trained: Trained) -> None:
    folder = registry.chosen_folder(trained.settings.model_dir)
    card = json.loads((folder / "card.json").read_text())
    with pytest.raises(FeatureSetMismatchError, match="trained on other features"):
        registry.load_model(_spark(), folder, [*card["features"][1:], "something_else"])


def test_the_cli_says_in_one_line_when_there_are_too_few_events(
    trained: Trained,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use(monkeypatch, trained.connections)
    day = trained.fleet.first_day.isoformat()
    late = (trained.fleet.first_day + timedelta(days=1)).isoformat()
    status = main(["voltage", "--from", day, "--to", late, "--quiet", "--model-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.startswith("training: too few labelled voltage events: found train ")
    assert "need 5 in each part" in err and len(err.splitlines()) == 1


def test_the_cli_names_the_command_that_trains_a_model_when_there_is_none(
    trained: Trained,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use(monkeypatch, trained.connections)
    day = trained.fleet.last_day.isoformat()
    status = main(["predict-voltage", "--to", day, "--quiet", "--model-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err == (
        f"training: no voltage-event model in {tmp_path / 'voltage'}: train one with "
        "`python -m training voltage --from DAY --to DAY`"
    )


def _use(monkeypatch: pytest.MonkeyPatch, connections: ConnectionSettings) -> None:
    monkeypatch.setenv("SMART_METER_CASSANDRA_KEYSPACE", connections.cassandra_keyspace)
    monkeypatch.setenv("SMART_METER_INFLUXDB_DATABASE", connections.influxdb_database)
    monkeypatch.setenv("SMART_METER_CASSANDRA_PORT", str(connections.cassandra_port))
    monkeypatch.setenv("SMART_METER_INFLUXDB_URL", connections.influxdb_url)


def test_features_of_an_hour_do_not_change_when_later_readings_are_added(trained: Trained) -> None:
    spark, keyspace = _spark(), trained.connections.cassandra_keyspace
    first, last = trained.fleet.first_day, trained.fleet.first_day + timedelta(days=6)
    cutoff_ms = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    cutoff_ms += 4 * 24 * HOUR_MS + 17 * HOUR_MS  # an evening, when events come
    readings = source.readings(spark, keyspace, first, last, None)
    episodes = source.episodes(spark, keyspace, first, last, None)
    whole = collect_features(readings, episodes)
    cut = collect_features(
        readings.where(readings.ts_ms < cutoff_ms), episodes.where(episodes.start_ms < cutoff_ms)
    )
    known = whole.loc[whole["hour_ms"] < cutoff_ms].reset_index(drop=True)
    assert len(known) == len(cut) > 0
    pandas.testing.assert_frame_equal(known, cut, check_exact=False, rtol=1e-9)
