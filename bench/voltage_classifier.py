"""The voltage-event classifier against its baselines, on a simulated fleet under grid
stress with voltage faults.

    python -m bench.voltage_classifier [--meters 100] [--days 35] [--seed 7]

Half-hourly meters from 2026-01-05 (winter), 3 a transformer, cold spells and weak
transformers (``inject --grid-stress``) plus injected sags and sustained
under-voltages. Every reading goes through the streaming app's validation (the prod
preset, a fetch at a time, as a worker does it), so the voltage episodes are the ones
the app would store; readings and episodes then go to local Spark as DataFrames (no
Cassandra: this measures the models, not the storage). Then the same code as
``python -m training voltage``: features, labels (an event of at least 10 min starting
within 24 h), purged split 60/20/20, the three models, thresholds on validation, scores
on test. Prints the table and writes bench/results/voltage_classifier.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from streaming_app.rules.events import VoltageEvent
from tests.streaming_storage import batches
from tests.voltage_fleet import fleet_readings
from training.voltage.compare import Comparison, train_and_compare
from training.voltage.dataset import Dataset, collect_features, labelled
from training.voltage.metrics import ACCURACY_MISLEADS
from training.voltage.report import metrics_table

START = datetime(2026, 1, 5, tzinfo=UTC)
RESULTS = Path(__file__).parent / "results" / "voltage_classifier.md"


def simulate(meters: int, days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Readings and the app's voltage episodes, as frames."""
    readings = fleet_readings(START, 48 * days, per_transformer=3, meters=meters, seed=seed)
    episodes = {
        (e.meter_id, e.start_ms): (e.meter_id, e.start_ms, e.end_ms)
        for batch in asyncio.run(batches(readings))
        for e in batch.events
        if isinstance(e, VoltageEvent)
    }
    rows = pd.DataFrame(
        {
            "meter_id": [r.meter_id for r in readings],
            "transformer_id": [r.grid.transformer_id if r.grid else None for r in readings],
            "ts_ms": [r.ts_ms for r in readings],
            "voltage_v": [list(r.voltage_v) if r.voltage_v else None for r in readings],
            "temperature_c": [r.temperature_c for r in readings],
            "import_wh": [r.import_wh for r in readings],
        }
    )
    return rows, pd.DataFrame(list(episodes.values()), columns=["meter_id", "start_ms", "end_ms"])


def measure(
    spark: SparkSession, rows: pd.DataFrame, episodes: pd.DataFrame, seed: int
) -> tuple[Dataset, Comparison]:
    frame = collect_features(spark.createDataFrame(rows), spark.createDataFrame(episodes))
    data = labelled(frame, episodes, horizon_hours=24, min_event_minutes=10)
    return data, train_and_compare(spark, data, seed, lambda line: print(line, flush=True))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows, episodes = simulate(args.meters, args.days, args.seed)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    data, comparison = measure(spark, rows, episodes, args.seed)
    chosen = comparison.trained[comparison.chosen]
    lines = [
        f"`python -m bench.voltage_classifier --meters {args.meters} --days {args.days} "
        f"--seed {args.seed}`: {len(rows)} readings, {len(episodes)} episodes stored by the "
        f"app, {data.events} of at least 10 min; {len(data.rows)} meter-hours, positives "
        f"(an event within 24 h) by part {data.positives()}.",
        "",
        *metrics_table(comparison),
        "",
        f"Chosen on validation F1: {comparison.chosen} (validation F1 {chosen.valid['f1']:.3f}).",
        ACCURACY_MISLEADS,
        "",
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; {time.monotonic() - started:.0f} s in all.",
    ]
    print("\n".join(lines))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
