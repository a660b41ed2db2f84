"""The batch jobs, by name: each computes over local days ``first..last`` and writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from batch_app.jobs import (
    completeness_job,
    energy_job,
    estimate_job,
    mart_job,
    temperature_job,
)
from batch_app.jobs.context import JobContext

Job = Callable[[JobContext], Any]

JOBS: dict[str, Job] = {
    "estimate": estimate_job.run,
    "energy": energy_job.run,
    "completeness": completeness_job.run,
    "temperature": temperature_job.run,
    "mart": mart_job.run,
}
"""Jobs in the order ``all`` runs them (estimates first, so energy counts them)."""

__all__ = ["JOBS", "Job", "JobContext"]
