"""The forecast job on local Spark against the real Cassandra and InfluxDB.

A simulated fleet of 40 half-hourly meters (5 a transformer) over 35 days is stored as
the streaming app stores clean readings, in a keyspace and database of this module's own. The job
scores the models on the last 7 days, saves them, and forecasts the next day of every
meter and transformer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.concurrent import execute_concurrent_with_args

from inject.fleet import Fleet, FleetConfig
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.schema import ensure_schema
from smart_meter.storage.session import open_session
from streaming_app.sinks.metrics_sink import MetricsSink
from tests.conftest import free_port
from tests.integration.streaming_app_readback import drop_keyspace, rows
from training.api import run_training
from training.cli import main
from training.jobs.forecast_job import ForecastSummary
from training.settings import TrainingSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]  # Spark on a busy machine

METERS, PER_TRANSFORMER, DAYS = 40, 5, 35
START = datetime(2024, 1, 1, tzinfo=UTC)
LAST_DAY = date(2024, 2, 4)  # the 35th day
FORECAST_DAY = LAST_DAY + timedelta(days=1)
TRANSFORMERS = METERS // PER_TRANSFORMER
TIMEOUT_S = 120.0  # a busy Cassandra answers late


def fleet_readings() -> list[Reading]:
    config = FleetConfig(meters=METERS, interval_s=1800, meters_per_transformer=PER_TRANSFORMER)
    return [r for _, batch in Fleet(config, START).run(DAYS * 48 + 1) for r in batch]


def ensure_tables(connections: ConnectionSettings) -> None:
    """The keyspace and its tables, with time for a busy Cassandra's schema changes."""
    session = open_session(connections, create_schema=False, bind=False)
    try:
        session.get_execution_profile(EXEC_PROFILE_DEFAULT).request_timeout = TIMEOUT_S
        ensure_schema(session, connections.cassandra_keyspace)
    finally:
        session.cluster.shutdown()


def run_forecast(stored: Stored) -> ForecastSummary:
    settings = TrainingSettings(model_dir=stored.model_dir)
    report = run_training(
        "forecast",
        LAST_DAY,
        LAST_DAY,
        settings=settings,
        connections=stored.connections,
        quiet=True,
    )
    summary: ForecastSummary = report.summaries["forecast"]
    return summary


def store_readings(connections: ConnectionSettings, readings: list[Reading]) -> None:
    """Stored as the streaming app stores a clean reading (the row ``insert_actual_readings``
    of the batch tests writes), many writes in flight: the fleet is 67,240 readings."""
    session = open_session(connections)
    try:
        session.get_execution_profile(EXEC_PROFILE_DEFAULT).request_timeout = TIMEOUT_S
        insert = session.prepare(
            "INSERT INTO readings_by_meter_day (meter_id, day, ts, transformer_id, import_wh, "
            "temperature_c, quality, status, lateness) "
            "VALUES (?, ?, ?, ?, ?, ?, 'A', 'accepted', 'ON_TIME')"
        )
        values = []
        for r in readings:
            when = datetime.fromtimestamp(r.ts_ms / 1000, UTC)
            transformer = r.grid.transformer_id if r.grid else None
            values.append(
                (r.meter_id, when.date(), when, transformer, r.import_wh, r.temperature_c)
            )
        results = execute_concurrent_with_args(session, insert, values, concurrency=16)
        assert all(ok for ok, _ in results)
    finally:
        session.cluster.shutdown()


@dataclass(frozen=True)
class Stored:
    connections: ConnectionSettings
    model_dir: Path


@pytest.fixture(scope="module")
def stored(
    connections: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stored]:
    name = f"forecast_{uuid.uuid4().hex[:8]}"
    mine = connections.model_copy(update={"cassandra_keyspace": name, "influxdb_database": name})
    ensure_tables(mine)  # with a long timeout: schema changes are slow on a busy Cassandra
    store_readings(mine, fleet_readings())
    yield Stored(mine, tmp_path_factory.mktemp("models"))
    drop_keyspace(mine, name)


@pytest.fixture(scope="module")
def first_run(stored: Stored) -> ForecastSummary:
    return run_forecast(stored)


def stored_forecasts(connections: ConnectionSettings) -> dict[tuple[str, str], Any]:
    found = rows(
        connections,
        connections.cassandra_keyspace,
        "consumption_forecast",
        "series, series_id, day, model, version, half_hours_from, half_hours_kwh, energy_kwh",
    )
    return {(r[0], r[1]): r for r in found}


def influx_points(connections: ConnectionSettings) -> dict[tuple[str, str], Any]:
    """Per (series, id): model, version and the kWh in time order."""
    sink = MetricsSink(connections.influxdb_url, connections.influxdb_database)
    reply = json.loads(
        sink.query(
            'SELECT "kwh" FROM "consumption_forecast" GROUP BY "series", "meter_id", '
            '"transformer_id", "model", "version"'
        )
    )
    result = reply["results"][0]
    assert "error" not in result, result
    points = {}
    for serie in result.get("series", []):
        tags = serie["tags"]
        key = tags["meter_id"] or tags["transformer_id"]
        times = [row[0] for row in serie["values"]]
        assert times == sorted(times)
        points[(tags["series"], key)] = (
            tags["model"],
            tags["version"],
            times[0],
            [row[1] for row in serie["values"]],
        )
    return points


def test_gradient_boosting_beats_seasonal_naive_on_the_fleet(first_run: ForecastSummary) -> None:
    meters = first_run.scores["meters"]
    assert meters["gradient_boosted"]["series"] == METERS
    assert meters["gradient_boosted"]["mase"] < 1.0
    assert meters["gradient_boosted"]["mase"] < meters["seasonal_naive"]["mase"]
    assert first_run.scores["chosen"]["meter"] == "gradient_boosted"
    transformers = first_run.scores["transformers"]
    chosen = first_run.scores["chosen"]["transformer"]
    assert chosen != "seasonal_naive"
    assert transformers[chosen]["mase"] < transformers["seasonal_naive"]["mase"]
    saved = json.loads((first_run.model_folder / "scores.json").read_text())
    assert saved["version"] == first_run.version
    assert (first_run.model_folder / "meter" / "model.joblib").exists()


def test_every_meter_and_transformer_gets_the_next_day_in_cassandra_and_influxdb(
    stored: Stored, first_run: ForecastSummary
) -> None:
    assert (first_run.day, first_run.meters, first_run.transformers) == (
        FORECAST_DAY,
        METERS,
        TRANSFORMERS,
    )
    in_cassandra = stored_forecasts(stored.connections)
    in_influx = influx_points(stored.connections)
    assert len(in_cassandra) == METERS + TRANSFORMERS
    assert set(in_influx) == set(in_cassandra)
    midnight = datetime.combine(FORECAST_DAY, datetime.min.time(), UTC)
    for key, row in in_cassandra.items():
        _, _, day, model, version, starts, kwh, energy = row
        assert (day.date(), version) == (FORECAST_DAY, first_run.version)
        assert starts.replace(tzinfo=UTC) == midnight
        assert len(kwh) == 48 and all(k >= 0 for k in kwh)
        assert energy == pytest.approx(sum(kwh))
        assert in_influx[key] == (
            model,
            version,
            midnight.strftime("%Y-%m-%dT%H:%M:%SZ"),
            list(kwh),
        )
    assert first_run.points == 48 * (METERS + TRANSFORMERS)


def test_a_rerun_over_the_same_data_writes_the_same_version_and_rows(
    stored: Stored, first_run: ForecastSummary
) -> None:
    before = stored_forecasts(stored.connections)
    again = run_forecast(stored)
    assert again.version == first_run.version
    assert (again.rows, again.points) == (first_run.rows, first_run.points)
    assert stored_forecasts(stored.connections) == before
    assert len(influx_points(stored.connections)) == METERS + TRANSFORMERS


def test_too_little_history_is_one_line_with_what_was_found_and_needed(
    stored: Stored,
    first_run: ForecastSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, stored)
    assert (
        main(["forecast", "--to", "2024-01-10", "--model-dir", str(stored.model_dir), "--quiet"])
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "training: too little history to forecast: 10 local days of half-hourly energy found "
        "(2024-01-01..2024-01-10), 21 needed (14 to fit and scale MASE, then 7 to score on)"
    ]


def test_no_readings_is_one_line(
    stored: Stored,
    first_run: ForecastSummary,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, stored)
    assert (
        main(["forecast", "--to", "2023-06-30", "--model-dir", str(stored.model_dir), "--quiet"])
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        f"training: no readings in {stored.connections.cassandra_keyspace} between 2023-05-06 "
        "and 2023-06-30"
    )


def test_unreachable_cassandra_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMART_METER_CASSANDRA_PORT", str(free_port()))
    assert main(["forecast", "--to", "2024-02-04", "--model-dir", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Cassandra is unreachable at 127.0.0.1:" in err[0], err


def use(monkeypatch: pytest.MonkeyPatch, stored: Stored) -> None:
    monkeypatch.setenv("SMART_METER_CASSANDRA_KEYSPACE", stored.connections.cassandra_keyspace)
    monkeypatch.setenv("SMART_METER_INFLUXDB_DATABASE", stored.connections.influxdb_database)
    monkeypatch.setenv("SMART_METER_CASSANDRA_PORT", str(stored.connections.cassandra_port))
