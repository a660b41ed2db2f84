"""The pipeline benchmark's report: rich tables on the terminal and one JSON document,
every figure as min/median/max of the repeats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from bench.pipeline_e2e import E2EResult, latency_summary
from bench.pipeline_sink import SinkRun
from bench.pipeline_stats import CoreNeed, Spread, capacity, median_ratio

BEST_CLIENT = "acsylla"
ROWS_PER_READING = 2  # both reading tables


@dataclass(frozen=True)
class Config:
    """One end-to-end configuration, repeated."""

    per_message: int
    apps: int
    mode: str


def group_e2e(runs: Sequence[E2EResult]) -> dict[Config, list[E2EResult]]:
    groups: dict[Config, list[E2EResult]] = {}
    for run in runs:
        groups.setdefault(Config(run.per_message, run.apps, run.mode), []).append(run)
    return groups


def sink_limits(sinks: Sequence[SinkRun], client: str = BEST_CLIENT) -> list[float]:
    return [s.readings_per_s for s in sinks if s.client == client]


def sink_table(sinks: Sequence[SinkRun]) -> Table:
    table = Table(
        title="Sink limit: the app's reading rows (2 per reading), raw, prepared single-row "
        "INSERTs, many in flight",
        title_justify="left",
    )
    for column in ("client", "readings/s", "rows/s", "client µs/row", "Cassandra µs/row", "load"):
        table.add_column(column, justify="left" if column == "client" else "right")
    for client in sorted({s.client for s in sinks}):
        runs = [s for s in sinks if s.client == client]
        table.add_row(
            client,
            Spread.of([r.readings_per_s for r in runs]).text(),
            Spread.of([r.rows_per_s for r in runs]).text(),
            Spread.of([r.client_us_per_row for r in runs]).text(),
            Spread.of([r.cassandra_us_per_row for r in runs]).text(),
            Spread.of([r.load for r in runs]).text(1),
        )
    return table


def e2e_table(runs: Sequence[E2EResult], sinks: Sequence[SinkRun]) -> Table:
    table = Table(
        title="End to end: NATS JetStream -> python -m streaming_app run -> Cassandra "
        "(median (min-max) of the repeats)",
        title_justify="left",
    )
    columns = (
        "per msg",
        "apps",
        "mode",
        "readings/s",
        "sink limit",
        "ratio",
        "app µs/reading",
        "Cassandra µs/rdg",
        "NATS µs/rdg",
        "app RSS MiB start->end",
        "stored/published",
        "load",
        "latency p50/p99 ms",
    )
    for column in columns:
        table.add_column(column, justify="right")
    limit = Spread.of(sink_limits(sinks))
    for config, group in group_e2e(runs).items():
        rates = [r.readings_per_s for r in group]
        latency = latency_summary([v for r in group for v in r.to_ingested_ms])
        table.add_row(
            str(config.per_message),
            str(config.apps),
            config.mode,
            Spread.of(rates).text(),
            limit.text(),
            median_ratio(rates, sink_limits(sinks)).text(2),
            Spread.of([r.app_us for r in group]).text(),
            Spread.of([r.cassandra_us for r in group]).text(),
            Spread.of([r.nats_us for r in group]).text(),
            f"{_mib(group[0].rss_start)}->{_mib(group[-1].rss_end)} "
            f"(peak {_mib(max(r.rss_peak for r in group))})",
            f"{sum(r.stored for r in group):,}/{sum(r.published for r in group):,}",
            Spread.of([r.load for r in group]).text(1),
            f"{latency['p50']:,.0f}/{latency['p99']:,.0f}" if latency else "-",
        )
    return table


def _mib(value: int) -> str:
    return f"{value / 2**20:,.0f}"


@dataclass(frozen=True)
class CostPerReading:
    """Median CPU µs per reading of each component, from the end-to-end runs."""

    app: float
    cassandra: float
    nats: float
    cassandra_floor: float  # the best client's raw rows: Cassandra µs/row × rows/reading

    def as_mapping(self) -> dict[str, float]:
        return {"app": self.app, "cassandra": self.cassandra, "nats": self.nats}


def costs(runs: Sequence[E2EResult], sinks: Sequence[SinkRun]) -> CostPerReading:
    best = [s.cassandra_us_per_row for s in sinks if s.client == BEST_CLIENT]
    return CostPerReading(
        app=Spread.of([r.app_us for r in runs]).median,
        cassandra=Spread.of([r.cassandra_us for r in runs]).median,
        nats=Spread.of([r.nats_us for r in runs]).median,
        cassandra_floor=Spread.of(best).median * ROWS_PER_READING,
    )


def capacity_needs(
    cost: CostPerReading, rates: Sequence[float], utilisation: float
) -> list[CoreNeed]:
    micros = cost.as_mapping()
    if math.isfinite(cost.cassandra_floor):
        micros["cassandra, acsylla's raw rows"] = cost.cassandra_floor
    return capacity(rates, {k: v for k, v in micros.items() if math.isfinite(v)}, utilisation)


def capacity_table(needs: Sequence[CoreNeed], per_message: int) -> Table:
    table = Table(
        title="Capacity: cores needed, from the median CPU µs per reading of the end-to-end "
        f"runs with {per_message} readings a message (every mode and app count)",
        title_justify="left",
    )
    for column in ("readings/s", "component", "µs/reading", "busy cores", "cores", "arithmetic"):
        table.add_column(
            column, justify="left" if column in ("component", "arithmetic") else "right"
        )
    for need in needs:
        table.add_row(
            f"{need.rate:,.0f}",
            need.component,
            f"{need.micros:,.1f}",
            f"{need.busy_cores:,.2f}",
            str(need.cores),
            need.arithmetic(),
        )
    return table


def e2e_summary(runs: Sequence[E2EResult], sinks: Sequence[SinkRun]) -> list[dict[str, Any]]:
    """Per configuration: the spreads, as JSON."""
    limits = sink_limits(sinks)
    summary = []
    for config, group in group_e2e(runs).items():
        rates = [r.readings_per_s for r in group]
        summary.append(
            {
                "per_message": config.per_message,
                "apps": config.apps,
                "mode": config.mode,
                "readings_per_s": Spread.of(rates).as_dict(),
                "sink_limit_readings_per_s": Spread.of(limits).as_dict(),
                "ratio_to_sink_limit": median_ratio(rates, limits).as_dict(),
                "app_cpu_us_per_reading": Spread.of([r.app_us for r in group]).as_dict(),
                "cassandra_cpu_us_per_reading": Spread.of(
                    [r.cassandra_us for r in group]
                ).as_dict(),
                "nats_cpu_us_per_reading": Spread.of([r.nats_us for r in group]).as_dict(),
                "load_1min": Spread.of([r.load for r in group]).as_dict(),
                "stored": sum(r.stored for r in group),
                "published": sum(r.published for r in group),
            }
        )
    return summary


def sink_summary(sinks: Sequence[SinkRun]) -> list[dict[str, Any]]:
    summary = []
    for client in sorted({s.client for s in sinks}):
        runs = [s for s in sinks if s.client == client]
        summary.append(
            {
                "client": client,
                "readings_per_s": Spread.of([r.readings_per_s for r in runs]).as_dict(),
                "rows_per_s": Spread.of([r.rows_per_s for r in runs]).as_dict(),
                "client_cpu_us_per_row": Spread.of([r.client_us_per_row for r in runs]).as_dict(),
                "cassandra_cpu_us_per_row": Spread.of(
                    [r.cassandra_us_per_row for r in runs]
                ).as_dict(),
            }
        )
    return summary


def capacity_document(
    cost: CostPerReading, needs: Sequence[CoreNeed], per_message: int
) -> dict[str, Any]:
    return {
        "from_runs_with_per_message": per_message,
        "cpu_us_per_reading": {
            "app": _plain(cost.app),
            "cassandra": _plain(cost.cassandra),
            "nats": _plain(cost.nats),
            "cassandra_best_client_rows": _plain(cost.cassandra_floor),
        },
        "needs": [
            {
                "readings_per_s": need.rate,
                "component": need.component,
                "us_per_reading": _plain(need.micros),
                "busy_cores": _plain(need.busy_cores),
                "cores": need.cores,
                "utilisation": need.utilisation,
                "arithmetic": need.arithmetic(),
            }
            for need in needs
        ],
    }


def _plain(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None
