"""The daily-energy job on Spark against the same computation in DuckDB, on the same data.

    python -m bench.batch_bench --readings 10000000 [--keyspace bench_batch_10m] [--repeat 3]

Generates ``--readings`` half-hourly readings (meters x ``--days`` x 48, see
``bench.batch_data``) straight into Cassandra with the Spark Cassandra Connector (keyspace
``bench_batch_<size>`` by default, the project's schema, a marker row so that a second
run reuses them) and into Parquet (``--data-dir``), then times in one process:

- Spark session start-up (``smart_meter.spark.session.spark_session``: JVM, connector jars);
- the energy job's computation reading Cassandra (``energy_job.compute``: the job's own
  reader and ``energy_frames``), ``meter_day`` written to Parquet;
- the same ``energy_frames`` reading the Parquet copy (Cassandra scan cost vs compute);
- the same computation in DuckDB SQL on the Parquet copy (``bench.batch_duckdb``).

Then checks that Spark and DuckDB agree meter-day by meter-day (energy, cost, profile,
intervals) and stops with an error if they do not. Seconds are wall-clock on a shared
machine: the load average is recorded with every figure, and nothing is asserted on time.
Results go to ``bench/results/batch_bench.json`` (one record per size, newest kept) and
the table to ``bench/results/batch_bench.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812

from batch_app.energy import energy_frames
from batch_app.jobs.context import JobContext
from batch_app.jobs.energy_job import compute
from batch_app.settings import BatchSettings
from bench.batch_data import DataSpec, bench_connections, drop_data, ensure_data
from bench.batch_duckdb import Agreement, compare, meter_day_sql, run_duckdb
from bench.batch_report import Run, Timing, write_report
from smart_meter.spark.cassandra import day_filter
from smart_meter.spark.session import spark_session

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATA_DIR = Path("/tmp/smart-meter-batch-bench")


def load_average() -> float:
    return os.getloadavg()[0]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


@dataclass
class Timer:
    """Repetitions of one engine: seconds and the 1-min load average at each start."""

    name: str
    seconds: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def time(self, action: Callable[[], None]) -> float:
        self.loads.append(load_average())
        began = time.perf_counter()
        action()
        self.seconds.append(time.perf_counter() - began)
        return self.seconds[-1]

    def timing(self) -> Timing:
        return Timing(
            self.name,
            self.seconds,
            min(self.seconds),
            statistics.median(self.seconds),
            self.loads,
        )


def parquet_readings(
    spark: SparkSession, folder: Path, first: date, last: date, widen_days: int
) -> DataFrame:
    """The Parquet copy, filtered and with ``ts_ms`` as ``read_readings`` gives them."""
    readings = spark.read.parquet(str(folder / "readings"))
    span = day_filter(
        "day", first - timedelta(days=widen_days), last + timedelta(days=widen_days), None
    )
    return readings.where(span).withColumn("ts_ms", (F.unix_micros("ts") / 1000).cast("long"))


def write_meter_days(spark: SparkSession, meter_day: DataFrame, out: Path) -> None:
    """Materialise (the job writes Cassandra; the bench writes Parquet to compare), then
    drop the cache ``energy_frames`` persisted, so the next repetition reads again."""
    meter_day.write.mode("overwrite").parquet(str(out))
    spark.catalog.clearCache()


@dataclass(frozen=True)
class Options:
    readings: int
    days: int
    first_day: date
    seed: int
    missing_permille: int
    keyspace: str
    data_dir: Path
    repeat: int
    time_zone: str
    skip_cassandra_job: bool
    drop: bool


def size_label(readings: int) -> str:
    for unit, name in ((1_000_000_000, "g"), (1_000_000, "m"), (1_000, "k")):
        if readings >= unit and readings % unit == 0:
            return f"{readings // unit}{name}"
    return str(readings)


def parse(argv: list[str] | None) -> Options:
    cli = argparse.ArgumentParser(prog="python -m bench.batch_bench", description=__doc__)
    cli.add_argument("--readings", type=int, default=1_000_000, help="readings to generate")
    cli.add_argument("--days", type=int, default=30, help="days per meter (48 readings a day)")
    cli.add_argument("--first-day", type=date.fromisoformat, default=date(2025, 3, 16))
    cli.add_argument("--seed", type=int, default=20250316)
    cli.add_argument(
        "--missing-permille", type=int, default=0, help="readings left out, per thousand"
    )
    cli.add_argument("--keyspace", help="Cassandra keyspace (default bench_batch_<size>)")
    cli.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="Parquet copies")
    cli.add_argument("--repeat", type=int, default=3, help="repetitions of each engine")
    cli.add_argument("--time-zone", default="Europe/Lisbon", help="zone of local days")
    cli.add_argument("--skip-cassandra-job", action="store_true", help="time Spark on Parquet only")
    cli.add_argument(
        "--drop", action="store_true", help="drop the keyspace and the Parquet copy at the end"
    )
    args = cli.parse_args(argv)
    keyspace = args.keyspace or f"bench_batch_{size_label(args.readings)}"
    return Options(
        args.readings, args.days, args.first_day, args.seed, args.missing_permille,
        keyspace, args.data_dir, args.repeat, args.time_zone, args.skip_cassandra_job,
        args.drop,
    )  # fmt: skip


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {load_average():.2f}] {line}", flush=True)


@dataclass(frozen=True)
class Bench:
    """One run's data set, session and where each engine writes its result."""

    options: Options
    spec: DataSpec
    settings: BatchSettings
    spark: SparkSession
    folder: Path

    @property
    def work(self) -> Path:
        return self.folder / "results"

    def engines(self) -> list[tuple[Timer, Callable[[], None]]]:
        """The three computations, each materialising ``meter_day`` to Parquet."""
        spark, settings, folder, work = self.spark, self.settings, self.folder, self.work
        first, last = self.spec.first_day, self.spec.last_day
        widen = settings.max_interval_days + 1
        connections = bench_connections(self.options.keyspace)
        context = JobContext(spark, settings, connections, first, last, None, say=say)
        sql = meter_day_sql(str(folder / "readings" / "*.parquet"), settings, first, last, widen)

        def spark_cassandra() -> None:
            write_meter_days(spark, compute(context).meter_day, work / "spark-cassandra")

        def spark_parquet() -> None:
            readings = parquet_readings(spark, folder, first, last, widen)
            frames = energy_frames(readings, spark, settings, first, last)
            write_meter_days(spark, frames.meter_day, work / "spark-parquet")

        engines = [
            (Timer("spark, Cassandra"), spark_cassandra),
            (Timer("spark, Parquet"), spark_parquet),
            (Timer("duckdb, Parquet"), lambda: run_duckdb(sql, work / "duckdb.parquet")),
        ]
        return engines[1:] if self.options.skip_cassandra_job else engines


def time_engines(engines: list[tuple[Timer, Callable[[], None]]], repeat: int) -> list[Timer]:
    """Round-robin repetitions, so that load from others is spread over the engines."""
    for rep in range(repeat):
        for timer, action in engines:
            seconds = timer.time(action)
            say(f"{timer.name} #{rep + 1}: {seconds:.1f} s")
    return [timer for timer, _ in engines]


def check_agreement(work: Path) -> Agreement:
    """Each Spark result against DuckDB's; exits with an error if any meter-day differs."""
    agreements = [
        compare(str(work / side / "*.parquet"), work / "duckdb.parquet")
        for side in ("spark-cassandra", "spark-parquet")
        if (work / side).exists()
    ]
    for agreement in agreements:
        say(f"check against DuckDB: {agreement}")
        if not agreement.equal:
            raise SystemExit(f"batch_bench: Spark and DuckDB DISAGREE: {agreement}")
    return agreements[0]


def start_spark(settings: BatchSettings, keyspace: str) -> tuple[SparkSession, float]:
    began = time.perf_counter()
    spark = spark_session(settings.spark_options(), bench_connections(keyspace), "batch-bench")
    startup_s = time.perf_counter() - began
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    say(f"Spark session in {startup_s:.1f} s ({settings.master})")
    return spark, startup_s


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    spec = DataSpec.for_readings(
        options.readings, options.days, options.first_day, options.seed, options.missing_permille
    )
    settings = BatchSettings(time_zone=options.time_zone)
    folder = options.data_dir / options.keyspace
    uptime_before = uptime()
    say(f"machine: {uptime_before}")
    spark, startup_s = start_spark(settings, options.keyspace)
    load = ensure_data(spark, spec, options.keyspace, folder, say)
    bench = Bench(options, spec, settings, spark, folder)
    bench.work.mkdir(parents=True, exist_ok=True)
    timers = time_engines(bench.engines(), options.repeat)
    spark.stop()
    agreement = check_agreement(bench.work)
    run = Run(
        readings=load.readings,
        meters=spec.meters,
        days=spec.days,
        missing_permille=spec.missing_permille,
        keyspace=options.keyspace,
        load=asdict(load) | {"cassandra_rows_per_s": load.cassandra_rows_per_s},
        startup_s=startup_s,
        timings=[t.timing() for t in timers],
        meter_days=agreement.spark_rows,
        energy_mwh=agreement.spark_energy_mwh,
        cost=str(agreement.spark_cost),
        uptime_before=uptime_before,
        uptime_after=uptime(),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        when=time.strftime("%Y-%m-%d %H:%M"),
    )
    write_report(run, RESULTS / "batch_bench.json", RESULTS / "batch_bench.md")
    shutil.rmtree(bench.work, ignore_errors=True)
    if options.drop:
        drop_data(options.keyspace, folder)
        say(f"dropped keyspace {options.keyspace} and {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
