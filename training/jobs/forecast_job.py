"""``forecast``: score, fit, save and apply the next-day consumption forecasters.

1. Registers of the local days up to ``--to`` (``history_days`` of them) become
   half-hours per meter inside Spark, one transformer per pandas call.
2. On up to ``sample_transformers`` transformers (the same ones every run) the models
   are scored on a rolling origin over the last 7 days (MASE against seasonal naive,
   rMAE); each level's best is fitted on the sample and saved with the scores under a
   version derived from its inputs.
3. The day after ``--to`` is forecast for every meter and transformer inside Spark, and
   written to Cassandra and InfluxDB (``consumption_forecast``), tagged with model and
   version. The same data gives the same version and the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from threadpoolctl import threadpool_limits

from smart_meter.influx_lines import write_lines
from smart_meter.settings import ConnectionSettings
from smart_meter.spark.cassandra import read_readings, write_table
from training.forecast_spark.errors import NoReadingsError, TooLittleHistoryError
from training.forecast_spark.fitting import (
    ChosenModels,
    fit_chosen,
    save_chosen,
    scores_document,
)
from training.forecast_spark.half_hours import (
    HALF_HOUR_SCHEMA,
    NO_TRANSFORMER,
    READING_COLUMNS,
    transformer_half_hours,
)
from training.forecast_spark.output import TABLE, day_rows, influx_lines, with_epoch_ms
from training.forecast_spark.predict import FORECAST_SCHEMA, TRANSFORMER, NextDay
from training.forecast_spark.scoring import (
    MIN_HISTORY_DAYS,
    Matrices,
    known_days,
    matrices,
    sample_transformers,
    score_models,
)
from training.forecast_spark.settings import ForecastSettings


class ModelFolderSettings(Protocol):
    @property
    def model_dir(self) -> Path: ...


class ForecastContext(Protocol):
    """What the job needs from the run (the training runner's context has it)."""

    @property
    def spark(self) -> SparkSession: ...
    @property
    def settings(self) -> ModelFolderSettings: ...
    @property
    def connections(self) -> ConnectionSettings: ...
    @property
    def last_day(self) -> date: ...
    @property
    def meters(self) -> Sequence[str] | None: ...
    @property
    def say(self) -> Callable[[str], None]: ...
    @property
    def keyspace(self) -> str: ...

    def count(self, what: str, rows: int) -> None: ...


@dataclass(frozen=True)
class ForecastSummary:
    """What the run scored, chose and wrote."""

    day: date
    version: str
    scores: dict[str, Any]
    meters: int
    transformers: int
    rows: int
    points: int
    model_folder: Path

    def __str__(self) -> str:
        meters = self.scores["meters"]
        chosen = self.scores["chosen"]
        mase = ", ".join(f"{m} {s['mase']:.3f}" for m, s in meters.items())
        return (
            f"{self.day}: {self.meters} meters and {self.transformers} transformers forecast "
            f"with {chosen['meter']} / {chosen['transformer']} (version {self.version}); "
            f"meter MASE {mase}"
        )


def group_key() -> Column:
    """A transformer's meters together; a meter without one alone."""
    return F.when(F.col("transformer_id") == NO_TRANSFORMER, F.concat(F.lit("meter:"), "meter_id"))


def forecast_job(context: ForecastContext) -> ForecastSummary:
    settings = ForecastSettings()
    last, say = context.last_day, context.say
    first = last - timedelta(days=settings.history_days - 1)
    say(f"forecast: half-hours of {first}..{last} ({settings.time_zone}) from the registers")
    half_hours = _half_hours(context, first, last).persist()
    groups = [r["group_id"] for r in half_hours.select("group_id").distinct().collect()]
    if not groups:
        raise NoReadingsError(_where(context, first, last))
    sampled = sample_transformers(groups, settings.sample_transformers)
    say(f"forecast: scoring on {len(sampled)} of {len(groups)} transformers (lone meters count)")
    sample = _sample(half_hours, sampled, settings.time_zone, last)
    with threadpool_limits(limits=settings.threads):
        scores = score_models(sample, last)
        chosen = fit_chosen(sample, scores, last)
    document = scores_document(scores, chosen, sample)
    folder = save_chosen(chosen, document, context.settings.model_dir)
    say(f"forecast: models saved in {folder}; forecasting {last + timedelta(days=1)}")
    forecasts = _forecast(half_hours, chosen, last + timedelta(days=1), settings).persist()
    summary = _write(context, forecasts, chosen, document, folder, settings.time_zone)
    forecasts.unpersist()
    half_hours.unpersist()
    say(f"forecast: {summary}")
    return summary


def _where(context: ForecastContext, first: date, last: date) -> str:
    meters = f" for meters {', '.join(context.meters)}" if context.meters else ""
    return f"in {context.keyspace} between {first} and {last}{meters}"


def _half_hours(context: ForecastContext, first: date, last: date) -> DataFrame:
    readings = read_readings(
        context.spark,
        context.keyspace,
        first - timedelta(days=1),
        last + timedelta(days=1),
        context.meters,
    )
    transformer = F.coalesce(F.col("transformer_id"), F.lit(NO_TRANSFORMER))
    readings = readings.select(*READING_COLUMNS).withColumn("transformer_id", transformer)
    halves = readings.groupBy("transformer_id").applyInPandas(
        transformer_half_hours, HALF_HOUR_SCHEMA
    )
    return halves.withColumn("group_id", F.coalesce(group_key(), F.col("transformer_id")))


def _sample(half_hours: DataFrame, sampled: list[str], time_zone: str, last: date) -> Matrices:
    frame: pd.DataFrame = half_hours.where(F.col("group_id").isin(sampled)).toPandas()
    sample = matrices(frame.drop(columns="group_id"), time_zone, last)
    found = known_days(sample.meters)
    if found is None:
        raise NoReadingsError(f"with a known half-hour up to {last}")
    days, first_known, last_known = found
    if last_known < last - timedelta(days=1):
        raise NoReadingsError(f"on {last} or the day before (the newest are of {last_known})")
    if days < MIN_HISTORY_DAYS:
        raise TooLittleHistoryError(days, MIN_HISTORY_DAYS, first_known, last_known)
    return sample


def _forecast(
    half_hours: DataFrame, chosen: ChosenModels, day: date, settings: ForecastSettings
) -> DataFrame:
    next_day = NextDay(chosen, day, settings.time_zone, settings.threads)
    grouped = half_hours.drop("group_id").groupBy(
        F.coalesce(group_key(), F.col("transformer_id")).alias("group_id")
    )
    # a function of one argument: Spark counts a callable object's ``self`` as a second one
    return grouped.applyInPandas(lambda frame: next_day(frame), FORECAST_SCHEMA)  # noqa: PLW0108


def _write(
    context: ForecastContext,
    forecasts: DataFrame,
    chosen: ChosenModels,
    document: dict[str, Any],
    folder: Path,
    time_zone: str,
) -> ForecastSummary:
    rows = day_rows(forecasts, time_zone).persist()
    per_series = rows.groupBy("series").agg(F.count("*").alias("n")).collect()
    counts: dict[str, int] = {r["series"]: r["n"] for r in per_series}
    no_transformer = F.when(F.col("transformer_id") != NO_TRANSFORMER, F.col("transformer_id"))
    write_table(rows.withColumn("transformer_id", no_transformer), context.keyspace, TABLE)
    context.count(TABLE, sum(counts.values()))
    lines = influx_lines(with_epoch_ms(forecasts).toLocalIterator())
    points = write_lines(context.connections, lines)
    context.count("influxdb points", points)
    rows.unpersist()
    return ForecastSummary(
        day=chosen.day,
        version=chosen.version,
        scores=document,
        meters=counts.get("meter", 0),
        transformers=counts.get(TRANSFORMER, 0),
        rows=sum(counts.values()),
        points=points,
        model_folder=folder,
    )
