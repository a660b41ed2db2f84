"""The training jobs, by name, in the order ``all`` runs them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from training.jobs import forecast_job

JOBS: dict[str, Callable[[Any], Any]] = {
    "forecast": forecast_job.forecast_job,
}
