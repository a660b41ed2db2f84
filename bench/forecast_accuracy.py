"""Next-day consumption forecasts against seasonal naive, on a rolling origin.

    python -m bench.forecast_accuracy [--meters 100] [--weeks 10] [--test-days 14]

Two data sets:

- fleet: the project's simulator (``inject.fleet``, half-hourly reads from 2024-01-01,
  UTC days), its cumulative registers differenced into half-hours by
  :func:`training.forecast.half_hourly_from_registers`, ``--meters-per-transformer``
  meters a transformer; the last ``--test-days`` days are the test period. Forecast per
  meter and per transformer: seasonal naive, the gradient-boosted model fitted on the
  transformers themselves (aggregate level), and the sum of its per-meter forecasts
  (bottom-up).
- UCI: ../shared/data/uci-household-power-2006-12.txt (one house near Paris, a row a
  minute): ``Global_active_power`` (kW) averaged over each local half-hour × 0.5 h
  (a half-hour needs 15 of its minutes), whole Europe/Paris days only (17 Dec 2006 to
  10 Jan 2007, 25 days); the last ``--uci-test-days`` are the test period.

Each test day is forecast from the days before it (its temperature is given, standing
for the weather forecast); the model is refitted every ``--retrain-every-days``.
Prints the table and writes bench/results/forecast_accuracy.md.
"""

from __future__ import annotations

import argparse
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn

from inject.fleet import Fleet, FleetConfig
from tests.shared_data import shared_file
from training.forecast import (
    DayMatrix,
    Evaluation,
    GradientBoosted,
    RollingOrigin,
    Scores,
    SeasonalNaive,
    bottom_up,
    half_hourly_from_registers,
    rolling_forecasts,
    scores_against_naive,
)

RESULTS = Path(__file__).parent / "results" / "forecast_accuracy.md"
FLEET_START = datetime(2024, 1, 1, tzinfo=UTC)
UCI_ZONE = "Europe/Paris"
MIN_MINUTES = 15
FLEET_JITTER_SIGMA = 0.25  # inject.fleet: each half-hour x lognormal(0, 0.25), independent


@dataclass(frozen=True)
class Row:
    """One model's scores on one data set at one level."""

    data_set: str
    model: str
    scores: Scores


def fleet_readings(
    meters: int, weeks: int, per_transformer: int
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The simulator's registers and temperatures, and each meter's transformer."""
    config = FleetConfig(meters=meters, interval_s=1800, meters_per_transformer=per_transformer)
    fleet = Fleet(config, FLEET_START)
    rows: list[tuple[str, datetime, float, float | None]] = []
    groups: dict[str, str] = {}
    for when, readings in fleet.run(weeks * 7 * 48 + 1):
        for reading in readings:
            rows.append((reading.meter_id, when, reading.import_wh, reading.temperature_c))
            if reading.grid is not None and reading.grid.transformer_id is not None:
                groups[reading.meter_id] = reading.grid.transformer_id
    frame = pd.DataFrame(rows, columns=["series_id", "ts", "import_wh", "temperature_c"])
    return frame, groups


def uci_half_hours() -> pd.DataFrame:
    """The UCI house as half-hourly kWh over whole local days."""
    raw = pd.read_csv(
        shared_file("uci-household-power-2006-12.txt"), sep=";", dtype=str, keep_default_na=False
    )
    power = pd.to_numeric(raw["Global_active_power"].str.strip(), errors="coerce")
    local = pd.to_datetime(raw["Date"] + " " + raw["Time"], dayfirst=True)
    minutes = pd.Series(power.to_numpy(), index=local.dt.tz_localize(UCI_ZONE, ambiguous="raise"))
    halves = minutes.resample("30min")
    kwh = (halves.mean() * 0.5).where(halves.count() >= MIN_MINUTES)
    index = pd.DatetimeIndex(kwh.index)
    days = index.normalize()
    whole = kwh.groupby(days).transform("size") == 48
    kept = kwh[whole]
    return pd.DataFrame(
        {
            "series_id": "UCI-1",
            "ts": pd.DatetimeIndex(kept.index).tz_convert("UTC"),
            "kwh": kept.to_numpy(),
        }
    )


def evaluate(
    matrix: DayMatrix, plan: RollingOrigin, groups: dict[str, str] | None, label: str
) -> list[Row]:
    """Seasonal naive and gradient boosted per series; with groups, also per group."""
    naive = rolling_forecasts(matrix, SeasonalNaive, plan)
    boosted = rolling_forecasts(matrix, GradientBoosted, plan)
    rows = [
        Row(label, e.model, s)
        for e, s in zip(
            (naive, boosted),
            scores_against_naive([naive, boosted], matrix, plan).values(),
            strict=True,
        )
    ]
    if groups is None:
        return rows
    aggregate = matrix.grouped(groups)
    level: list[Evaluation] = [
        rolling_forecasts(aggregate, SeasonalNaive, plan),
        rolling_forecasts(aggregate, GradientBoosted, plan),
        bottom_up(boosted, matrix, groups),
    ]
    level[1].model = "gradient_boosted (aggregate model)"
    scored = scores_against_naive(level, aggregate, plan)
    transformers = f"fleet, {len(aggregate.series_ids)} transformers"
    return rows + [Row(transformers, name, s) for name, s in scored.items()]


def noise_floor(members: int, draws: int = 400_000) -> float:
    """The rMAE of a forecaster that knows the simulator's expected load exactly.

    The fleet multiplies every half-hour by independent lognormal noise, which no model
    can foresee: the best forecast is its median, and its error relative to the
    week-ago forecast's is E|X - median| / E|X1 - X2| (summed over ``members`` equal
    meters for a transformer). Monte Carlo with a fixed seed.
    """
    rng = np.random.default_rng(0)
    noise = rng.lognormal(0.0, FLEET_JITTER_SIGMA, (3, draws, members)).sum(axis=2)
    median = float(np.median(noise[0]))
    return float(np.abs(noise[0] - median).mean() / np.abs(noise[1] - noise[2]).mean())


def table(rows: list[Row]) -> list[str]:
    """Markdown: data set, model, MASE, rMAE, MAE, bias, points."""
    lines = [
        "| data set | model | MASE | rMAE | MAE (kWh/half-hour) | bias (kWh) | bias | points |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = row.scores
        lines.append(
            f"| {row.data_set} | {row.model} | {s.mase:.3f} | {s.rmae:.3f} | {s.mae_kwh:.4f} |"
            f" {s.bias_kwh:+.4f} | {s.bias_pct:+.1f} % | {s.points} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--meters-per-transformer", type=int, default=10)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--test-days", type=int, default=14)
    parser.add_argument("--uci-test-days", type=int, default=7)
    parser.add_argument("--retrain-every-days", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the table is written")
    args = parser.parse_args(argv)
    readings, groups = fleet_readings(args.meters, args.weeks, args.meters_per_transformer)
    fleet = DayMatrix.from_frame(half_hourly_from_registers(readings), "UTC")
    fleet_plan = RollingOrigin.last_days(fleet, args.test_days, args.retrain_every_days)
    uci = DayMatrix.from_frame(uci_half_hours(), UCI_ZONE)
    uci_plan = RollingOrigin.last_days(uci, args.uci_test_days, args.retrain_every_days)
    rows = evaluate(fleet, fleet_plan, groups, f"fleet, {args.meters} meters")
    rows += evaluate(uci, uci_plan, None, "UCI house")
    out = [
        "# Forecast accuracy",
        "",
        "    python -m bench.forecast_accuracy"
        f" --meters {args.meters} --meters-per-transformer {args.meters_per_transformer}"
        f" --weeks {args.weeks} --test-days {args.test_days}"
        f" --uci-test-days {args.uci_test_days} --retrain-every-days {args.retrain_every_days}",
        "",
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"scikit-learn {sklearn.__version__}",
        "",
        f"fleet: {fleet.days} days from {fleet.first_day}, test {fleet_plan.first_test_day} + "
        f"{fleet_plan.test_days} days; UCI: {uci.days} days from {uci.first_day}, test "
        f"{uci_plan.first_test_day} + {uci_plan.test_days} days; refit every "
        f"{args.retrain_every_days} days. MASE: mean over series of test MAE / in-sample "
        "week-ago naive MAE; rMAE: MAE / seasonal naive's MAE on the same half-hours; "
        "bias: forecast minus actual.",
        "",
        *table(rows),
        "",
        "Floor on the fleet: the simulator's per-half-hour noise is independent (lognormal,"
        f" sigma {FLEET_JITTER_SIGMA}), so even its exact expected load would score an rMAE of"
        f" about {noise_floor(1):.3f} for a meter and"
        f" {noise_floor(args.meters_per_transformer):.3f} for a sum of"
        f" {args.meters_per_transformer} meters (MASE differs a little: its scale is the"
        " in-sample naive error, in colder weeks).",
    ]
    text = "\n".join(out) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
