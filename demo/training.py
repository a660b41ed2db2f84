"""The demo's training part: the jobs of ``python -m training`` over the history, and
their headline figures: the voltage-event classifiers' test precision, recall, F1 and
PR-AUC beside the baselines (and the seed-style accuracy, which misleads), the
predictions written, and forecast MASE and rMAE per model against seasonal naive."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from demo.batch import run_batch
from demo.history import History
from training.api import run_training
from training.jobs.forecast_job import ForecastSummary
from training.settings import TrainingSettings
from training.voltage.metrics import ACCURACY_MISLEADS

BASELINES = ("persistence", "seed_mlp", "always_no_event")
VOLTAGE_COLUMNS = ("precision", "recall", "f1", "pr_auc", "accuracy")


@dataclass(frozen=True)
class DemoTraining:
    history: History
    voltage: dict[str, Any]
    prediction: dict[str, Any]
    forecast: ForecastSummary
    seconds: float


PREDICTED_HOURS = 24
ACTUALS_DAYS = 2


def run_training_part(history: History, model_dir: Path) -> DemoTraining:
    """Every training job over the history's days: the voltage classifiers trained on
    all of them, each hour of its last day scored, and the forecast of the day after it;
    then the batch jobs over its last two days, so that the predictions dashboard has the
    actual events and load beside them."""
    began = time.monotonic()
    settings = TrainingSettings(model_dir=model_dir)
    first, last = history.first_day, history.last_day
    report = run_training(
        "voltage", first, last, settings=settings, connections=history.connections
    )
    prediction = run_training(
        "predict-voltage", last, last, connections=history.connections,
        settings=settings.model_copy(update={"score_hours": PREDICTED_HOURS}),
    )  # fmt: skip
    forecast_report = run_training(
        "forecast", last, last, settings=settings, connections=history.connections
    )
    forecast: ForecastSummary = forecast_report.summaries["forecast"]
    run_batch(history.connections, last - timedelta(days=ACTUALS_DAYS - 1), last)
    return DemoTraining(
        history,
        report.summaries["voltage"],
        prediction.summaries["predict-voltage"],
        forecast,
        time.monotonic() - began,
    )


def _scores(levels: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {
        model: {"mase": round(s["mase"], 3), "rmae": round(s["rmae"], 3)}
        for model, s in levels.items()
    }


def training_document(training: DemoTraining) -> dict[str, Any]:
    """The training part's figures for ``summary.json``."""
    history, forecast = training.history, training.forecast
    scores = forecast.scores
    return {
        "history": {
            "keyspace": history.connections.cassandra_keyspace,
            "first_day": history.first_day.isoformat(),
            "last_day": history.last_day.isoformat(),
            "readings_published": history.injected.readings_published,
            "readings_stored": history.stored.readings,
            "voltage_episodes": history.stored.voltage_episodes,
            "seconds": {
                "inject": round(history.inject_s, 1),
                "process": round(history.process_s, 1),
            },
        },
        "voltage": {
            "version": training.voltage["version"],
            "chosen": training.voltage["chosen"],
            "positives": training.voltage["positives"],
            "test": training.voltage["test"],
        },
        "predict_voltage": training.prediction,
        "forecast": {
            "day": forecast.day.isoformat(),
            "version": forecast.version,
            "test_period": scores["test_period"],
            "chosen": scores["chosen"],
            "meters": _scores(scores["meters"]),
            "transformers": _scores(scores["transformers"]),
            "rows_written": forecast.rows,
            "points_written": forecast.points,
        },
        "seconds": round(training.seconds, 1),
    }


def voltage_table(training: DemoTraining) -> Table:
    """Test-period scores of every classifier beside the baselines."""
    history, voltage, prediction = training.history, training.voltage, training.prediction
    positives = voltage["positives"]
    table = Table(
        title=f"Training history: {history.stored.readings:,} readings stored "
        f"({history.first_day}..{history.last_day}), {history.stored.voltage_episodes} "
        f"voltage episodes\nVoltage-event classifier {voltage['version']}: an event in the "
        f"next 24 h; test period ({positives['test']} positive meter-hours of "
        f"{voltage['test'][voltage['chosen']]['rows']:,})",
        title_justify="left",
        caption=f"{ACCURACY_MISLEADS}\nPredictions of {history.last_day}: "
        f"{prediction['meters']} meters scored with {prediction['model']}, "
        f"{prediction['meters_predicted']} meters and {prediction['transformers_predicted']} "
        "transformers predicted to have an event.",
        caption_justify="left",
    )
    table.add_column("model", justify="left")
    for column in VOLTAGE_COLUMNS:
        table.add_column(column.replace("_", "-").upper() if column == "pr_auc" else column,
                         justify="right")  # fmt: skip
    for model, figures in voltage["test"].items():
        mark = " (baseline)" if model in BASELINES else ""
        mark = " (chosen)" if model == voltage["chosen"] else mark
        table.add_row(f"{model}{mark}", *(f"{figures[c]:.3f}" for c in VOLTAGE_COLUMNS))
    return table


def training_tables(training: DemoTraining) -> list[Table]:
    forecast = training.forecast
    scores = forecast.scores
    table = Table(
        title=f"Forecast of {forecast.day}: MASE against seasonal naive (week ago) "
        f"over {scores['test_period']['first_day']} + {scores['test_period']['days']} days",
        title_justify="left",
    )
    for column in ("level", "model", "MASE", "rMAE"):
        table.add_column(column, justify="left" if column in ("level", "model") else "right")
    for level in ("meters", "transformers"):
        chosen = scores["chosen"]["meter" if level == "meters" else "transformer"]
        for model, s in scores[level].items():
            mark = " (chosen)" if model == chosen else ""
            table.add_row(level, f"{model}{mark}", f"{s['mase']:.3f}", f"{s['rmae']:.3f}")
    table.add_row("", "seconds (Spark start-up included)", f"{training.seconds:.1f}", "")
    return [voltage_table(training), table]
