"""Features of a meter-hour, built in Spark from what was known by the hour's end.

Every window runs backwards (``rangeBetween(-k, 0)`` over hour numbers), so a row never
sees a later reading or event. From readings (``meter_id, transformer_id, ts_ms,
voltage_v, temperature_c, import_wh``) and stored voltage episodes (``meter_id,
start_ms``, any length: an episode's start is known when its first reading arrives).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F  # noqa: N812

from training.voltage.labels import HOUR_MS

SEED_FEATURES = ["hour_sin", "hour_cos", "weekday", "temperature_c"]
"""What the seed's classifier used: the hour on a circle, the weekday, the temperature."""

FULL_FEATURES = [
    *SEED_FEATURES,
    "temperature_mean_24h", "temperature_vs_week",
    "v_mean_6h", "v_min_6h", "v_max_6h", "v_trend_6h", "v_min_24h",
    "tx_v_mean_6h", "tx_v_min_6h", "tx_v_min_24h", "tx_v_trend_6h",
    "hours_since_event", "events_7d",
    "kwh_1h", "tx_load_kwh", "tx_peak_kwh_24h", "tx_load_vs_peak", "tx_meters",
]  # fmt: skip
NO_EVENT_HOURS = 24 * 60
"""``hours_since_event`` when the meter had no episode in what was read."""


def _back(key: str, hours: int) -> WindowSpec:
    """Rows of the same key from ``hours - 1`` hours before up to this hour."""
    return Window.partitionBy(key).orderBy("hour").rangeBetween(-(hours - 1), 0)


def meter_hours(readings: DataFrame) -> DataFrame:
    """Per meter and hour: voltage (lowest phase) mean/min/max, temperature, energy."""
    by_time = Window.partitionBy("meter_id").orderBy("ts_ms")
    delta_wh = F.col("import_wh") - F.lag("import_wh").over(by_time)
    rows = (
        readings.where(F.col("voltage_v").isNotNull())
        .withColumn("v", F.array_min("voltage_v"))
        .withColumn("hour", F.floor(F.col("ts_ms") / HOUR_MS).cast("long"))
        .withColumn("kwh", F.when(delta_wh >= 0, delta_wh / 1000.0).otherwise(F.lit(0.0)))
    )
    return rows.groupBy("meter_id", "transformer_id", "hour").agg(
        F.avg("v").alias("v_mean"),
        F.min("v").alias("v_min"),
        F.max("v").alias("v_max"),
        F.avg("temperature_c").alias("temperature_c"),
        F.sum("kwh").alias("kwh_1h"),
    )


def transformer_hours(hours: DataFrame) -> DataFrame:
    """Per transformer and hour: mean and lowest voltage of its meters, summed load."""
    per_hour = hours.groupBy("transformer_id", "hour").agg(
        F.avg("v_mean").alias("tx_v"),
        F.min("v_min").alias("tx_v_low"),
        F.sum("kwh_1h").alias("tx_load_kwh"),
    )
    sizes = hours.groupBy("transformer_id").agg(F.countDistinct("meter_id").alias("tx_meters"))
    w6, w24 = _back("transformer_id", 6), _back("transformer_id", 24)
    return per_hour.join(sizes, "transformer_id").select(
        "transformer_id", "hour", "tx_load_kwh", "tx_meters",
        F.avg("tx_v").over(w6).alias("tx_v_mean_6h"),
        F.min("tx_v_low").over(w6).alias("tx_v_min_6h"),
        F.min("tx_v_low").over(w24).alias("tx_v_min_24h"),
        (F.col("tx_v") - F.avg("tx_v").over(w6)).alias("tx_v_trend_6h"),
        F.max("tx_load_kwh").over(w24).alias("tx_peak_kwh_24h"),
    )  # fmt: skip


def _event_hours(events: DataFrame) -> DataFrame:
    hour = F.floor(F.col("start_ms") / HOUR_MS).cast("long")
    return events.groupBy("meter_id", hour.alias("hour")).agg(F.count("*").alias("starts"))


def _calendar(hour: Column) -> list[Column]:
    angle = (hour % 24) * (2 * 3.141592653589793 / 24)
    moment = F.timestamp_seconds(hour * 3600)
    return [
        F.sin(angle).alias("hour_sin"),
        F.cos(angle).alias("hour_cos"),
        ((F.dayofweek(moment) + 5) % 7).cast("double").alias("weekday"),
    ]


def feature_frame(readings: DataFrame, events: DataFrame) -> DataFrame:
    """One row per meter-hour with readings: ``meter_id, transformer_id, hour_ms`` and
    :data:`FULL_FEATURES`."""
    hours = meter_hours(readings)
    starts = _event_hours(events)
    w6, w24 = _back("meter_id", 6), _back("meter_id", 24)
    w168 = _back("meter_id", 168)
    up_to_now = (
        Window.partitionBy("meter_id").orderBy("hour").rowsBetween(Window.unboundedPreceding, 0)
    )
    joined = hours.join(starts, ["meter_id", "hour"], "left").fillna(0, ["starts"])
    last_event = F.max(F.when(F.col("starts") > 0, F.col("hour"))).over(up_to_now)
    meter = joined.select(
        "meter_id", "transformer_id", "hour", "temperature_c", "kwh_1h",
        (F.col("hour") * HOUR_MS).alias("hour_ms"),
        *_calendar(F.col("hour")),
        F.avg("temperature_c").over(w24).alias("temperature_mean_24h"),
        (F.avg("temperature_c").over(w24) - F.avg("temperature_c").over(w168)).alias(
            "temperature_vs_week"
        ),
        F.avg("v_mean").over(w6).alias("v_mean_6h"),
        F.min("v_min").over(w6).alias("v_min_6h"),
        F.max("v_max").over(w6).alias("v_max_6h"),
        (F.col("v_mean") - F.avg("v_mean").over(w6)).alias("v_trend_6h"),
        F.min("v_min").over(w24).alias("v_min_24h"),
        F.coalesce(F.col("hour") - last_event, F.lit(NO_EVENT_HOURS)).alias("hours_since_event"),
        F.sum("starts").over(w168).cast("double").alias("events_7d"),
    )  # fmt: skip
    frame = meter.join(transformer_hours(hours), ["transformer_id", "hour"])
    frame = frame.withColumn(
        "tx_load_vs_peak", F.col("tx_load_kwh") / F.greatest(F.col("tx_peak_kwh_24h"), F.lit(1e-9))
    ).withColumn("hours_since_event", F.least(F.col("hours_since_event"), F.lit(NO_EVENT_HOURS)))
    columns = ["meter_id", "transformer_id", "hour_ms", *FULL_FEATURES]
    return frame.select(
        *[F.col(c).cast("double") if c in FULL_FEATURES else F.col(c) for c in columns]
    )
