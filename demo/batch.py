"""The demo's batch run: every batch job over the days the demo fleet covered, against the
demo's keyspace and database, and its headline figures."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.table import Table

from batch_app.api import BatchReport, run_app_batch
from batch_app.settings import BatchSettings
from smart_meter.settings import ConnectionSettings


@dataclass(frozen=True)
class DemoBatch:
    report: BatchReport
    seconds: float


def run_batch(connections: ConnectionSettings, first: date, last: date) -> DemoBatch:
    """``all`` over local days ``first..last`` (UTC: the demo's fleet clock)."""
    began = time.monotonic()
    settings = BatchSettings(time_zone="UTC")
    report = run_app_batch("all", first, last, settings=settings, connections=connections)
    return DemoBatch(report, time.monotonic() - began)


def batch_document(batch: DemoBatch) -> dict[str, Any]:
    """The batch's figures for ``summary.json``."""
    report = batch.report
    out: dict[str, Any] = {
        "first_day": report.first_day.isoformat(),
        "last_day": report.last_day.isoformat(),
        "rows_written": dict(report.written),
        "seconds": round(batch.seconds, 1),
    }
    energy = report.summaries.get("energy")
    if energy is not None:
        out["energy_kwh"] = str(energy.energy_kwh)
        out["cost"] = str(energy.cost)
        out["meter_days"] = energy.meter_days
    estimate = report.summaries.get("estimate")
    if estimate is not None:
        out["estimated_by_method"] = dict(estimate.by_method)
    mart = report.summaries.get("mart")
    if mart is not None and not isinstance(mart, str):
        out["mart_rows"] = mart.rows
    return out


def batch_table(batch: DemoBatch) -> Table:
    report = batch.report
    table = Table(title="Batch (Spark): every job over the demo's days", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    days = (report.last_day - report.first_day).days + 1
    table.add_row("local days processed", f"{days} ({report.first_day}..{report.last_day})")
    energy = report.summaries.get("energy")
    if energy is not None:
        table.add_row("meter-days of energy", f"{energy.meter_days:,}")
        table.add_row("energy (kWh)", f"{energy.energy_kwh:,.3f}")
        table.add_row(f"cost ({energy.currency})", f"{energy.cost:,.2f}")
    estimate = report.summaries.get("estimate")
    if estimate is not None:
        table.add_row("readings estimated (quality E)", f"{estimate.estimated:,}")
        for method, count in estimate.by_method.items():
            table.add_row(f"  by {method}", f"{count:,}")
    completeness = report.summaries.get("completeness")
    if completeness is not None:
        table.add_row("intervals received / expected", f"{completeness.ratio:.2%}")
    mart = report.summaries.get("mart")
    if mart is not None and not isinstance(mart, str):
        table.add_row("mart rows (PostgreSQL)", f"{mart.rows:,}")
    table.add_row("seconds (with Spark's start-up)", f"{batch.seconds:.1f}")
    return table
