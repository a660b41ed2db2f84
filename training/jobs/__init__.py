"""The training jobs, by name, in the order ``all`` runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from training.context import TrainingContext
from training.jobs import forecast_job, predict_voltage_job, voltage_job

Job = Callable[[TrainingContext], Any]

JOBS: dict[str, Job] = {
    "voltage": voltage_job.run,
    "predict-voltage": predict_voltage_job.run,
    "forecast": forecast_job.forecast_job,
}

__all__ = ["JOBS", "Job", "TrainingContext"]
