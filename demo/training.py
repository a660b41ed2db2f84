"""The demo's training part: the jobs of ``python -m training`` over the history, and
their headline figures (forecast MASE and rMAE per model, against seasonal naive)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from demo.history import History
from training.api import run_training
from training.jobs.forecast_job import ForecastSummary
from training.settings import TrainingSettings


@dataclass(frozen=True)
class DemoTraining:
    history: History
    forecast: ForecastSummary
    seconds: float


def run_training_part(history: History, model_dir: Path) -> DemoTraining:
    """Every training job over the history's days (forecasting the day after it)."""
    began = time.monotonic()
    report = run_training(
        "forecast",
        history.last_day,
        history.last_day,
        settings=TrainingSettings(model_dir=model_dir),
        connections=history.connections,
    )
    forecast: ForecastSummary = report.summaries["forecast"]
    return DemoTraining(history, forecast, time.monotonic() - began)


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


def training_tables(training: DemoTraining) -> list[Table]:
    history, forecast = training.history, training.forecast
    scores = forecast.scores
    title = (
        f"Training history: {history.stored.readings:,} readings stored "
        f"({history.first_day}..{history.last_day}), {history.stored.voltage_episodes} "
        "voltage episodes"
    )
    table = Table(
        title=f"{title}\nForecast of {forecast.day}: MASE against seasonal naive (week ago) "
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
    return [table]
