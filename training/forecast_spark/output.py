"""The forecasts as Cassandra rows and InfluxDB points.

Cassandra ``consumption_forecast``: a row per series (meter or transformer) and local
day, with the day's half-hours as a list from ``half_hours_from``, their sum, the model
and its version. InfluxDB ``consumption_forecast``: a point per half-hour, tags
``series`` (meter|transformer), ``meter_id`` or ``transformer_id``, ``model``,
``version``; field ``kwh``. Both are keyed so that writing the same forecast again
overwrites it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812

from training.forecast_spark.predict import METER

MEASUREMENT = "consumption_forecast"
TABLE = "consumption_forecast"


def day_rows(forecasts: DataFrame, time_zone: str) -> DataFrame:
    """One row per series and local day, half-hours in time order."""
    local_day = F.to_date(F.from_utc_timestamp("ts", time_zone))
    ordered = F.array_sort(F.collect_list(F.struct("ts", "kwh")))
    return (
        forecasts.withColumn("day", local_day)
        .groupBy("series", "series_id", "day", "transformer_id", "model", "version")
        .agg(ordered.alias("half_hours"))
        .select(
            "series",
            "series_id",
            "day",
            "transformer_id",
            "model",
            "version",
            F.col("half_hours")[0]["ts"].alias("half_hours_from"),
            F.col("half_hours.kwh").alias("half_hours_kwh"),
            F.aggregate("half_hours.kwh", F.lit(0.0), lambda acc, x: acc + x).alias("energy_kwh"),
        )
    )


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def influx_line(row: Any) -> str:
    """One half-hour's point (ms precision); ``row`` has ``ts_ms`` (epoch milliseconds)."""
    key = "meter_id" if row["series"] == METER else "transformer_id"
    tags = (
        f"{key}={_tag(row['series_id'])},model={_tag(row['model'])},"
        f"series={_tag(row['series'])},version={_tag(row['version'])}"
    )
    return f"{MEASUREMENT},{tags} kwh={float(row['kwh'])!r} {int(row['ts_ms'])}"


def influx_lines(rows: Iterable[Any]) -> Iterator[str]:
    return (influx_line(row) for row in rows)


def with_epoch_ms(forecasts: DataFrame) -> DataFrame:
    """``ts_ms`` computed in Spark: a timestamp collected to Python would be turned into
    the driver's local wall-clock time."""
    return forecasts.withColumn("ts_ms", (F.unix_micros("ts") / 1000).cast("long"))
