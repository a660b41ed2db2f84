"""Energy from the cumulative register, attributed to half-hours in proportion to time.

The same semantics as the streaming app's running totals (``smart_meter.energy``): each
interval between two counted readings of a meter is split over the epoch half-hours it
touches with cumulative floors, ``floor(E * t_end / T) - floor(E * t_start / T)`` in whole
milliwatt-hours, so the parts add up to the interval, half-hours to days and days to
months exactly. Each part is priced by the tariff of its local half-hour. What counts:

- stored readings, actual (``A``) or estimated (``E``): rejected and duplicate readings
  are never stored;
- not a reading the register rule failed (a falling register or one rising faster than
  the connection allows is no reference: the next plausible reading is counted from the
  last good one), except a reset (the register fell below ``reset_below_wh``), after
  which counting starts again from the new value;
- a lower register the rule let through is a rollover when the wrapped energy fits within
  ``max_kw`` over the interval (then it counts); any other fall counts nothing, and
  counting goes on from the lower value (after a falling reading the app flagged, the
  meter's next readings may sit below the last good one);
- an interval longer than ``max_interval_days`` is not spread over days (counting
  restarts), as the running totals do.

One difference is by design: the running totals count a late reading (older than the
meter's newest) as nothing, while the batch, seeing all readings in time order, splits
the interval at it; both give the same energy over the interval, possibly split over the
half-hours differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F  # noqa: N812

from batch_app.settings import BatchSettings
from smart_meter.energy.attribution import HALF_HOUR_MS
from smart_meter.energy.tariff import Tariff, load_tariff

DAY_MS = 86_400_000
MS_PER_HOUR = 3_600_000
MWH_PER_KWH = 1_000_000
MWH_PER_HALF_HOUR_TO_KW = 500_000  # mWh in a half-hour / 500,000 = mean kW
COST = "decimal(38,10)"


def to_mwh(wh: Column) -> Column:
    """Watt-hours to whole mWh, rounding half to even as Python's ``round`` does."""
    return F.bround(wh * 1000, 0).cast("long")


def counted_intervals(readings: DataFrame, settings: BatchSettings) -> DataFrame:
    """``meter_id, transformer_id, line_id, start_ms, end_ms, energy_mwh, estimated``: the
    intervals between consecutive counted readings of each meter."""
    failed = F.coalesce(F.col("failed_rules"), F.array().cast("array<string>"))
    register_failed = F.array_contains(failed, settings.register_rule_id)
    references = readings.where(F.col("quality").isin("A", "E")).where(
        ~register_failed | (F.col("import_wh") < settings.reset_below_wh)
    )
    by_meter = Window.partitionBy("meter_id").orderBy("ts_ms")
    previous_ts, previous_wh = F.lag("ts_ms").over(by_meter), F.lag("import_wh").over(by_meter)
    intervals = references.select(
        "meter_id",
        "transformer_id",
        "line_id",
        previous_ts.alias("start_ms"),
        F.col("ts_ms").alias("end_ms"),
        previous_wh.alias("previous_wh"),
        "import_wh",
        (F.col("quality") == "E").alias("estimated"),
        register_failed.alias("register_failed"),
    ).where(
        F.col("start_ms").isNotNull()
        & (F.col("end_ms") - F.col("start_ms") <= settings.max_interval_days * DAY_MS)
    )
    delta = to_mwh(F.col("import_wh")) - to_mwh(F.col("previous_wh"))
    wrapped_wh = F.lit(settings.rollover_at_wh) - F.col("previous_wh") + F.col("import_wh")
    wrapped = to_mwh(wrapped_wh)
    elapsed = F.col("end_ms") - F.col("start_ms")
    limit_wh = F.lit(settings.max_kw) * 1000 * elapsed / MS_PER_HOUR  # as the register rule
    plausible_wrap = (wrapped_wh >= 0) & (wrapped_wh <= limit_wh)
    rollover = (delta < 0) & ~F.col("register_failed") & plausible_wrap
    energy = F.when(rollover, wrapped).otherwise(delta)
    return intervals.select(
        "meter_id",
        "transformer_id",
        "line_id",
        "start_ms",
        "end_ms",
        F.greatest(energy, F.lit(0)).alias("energy_mwh"),
        "estimated",
    )


def half_hour_parts(intervals: DataFrame) -> DataFrame:
    """Each interval's energy over the epoch half-hours it touches (``period_ms``,
    ``part_mwh``): cumulative floors, exact in decimal arithmetic."""
    first_period = F.floor(F.col("start_ms") / HALF_HOUR_MS).cast("long") * HALF_HOUR_MS
    periods = F.sequence(first_period, F.col("end_ms") - 1, F.lit(HALF_HOUR_MS).cast("long"))
    exploded = intervals.withColumn("period_ms", F.explode(periods))
    duration = (F.col("end_ms") - F.col("start_ms")).cast("decimal(20,0)")
    energy = F.col("energy_mwh").cast("decimal(20,0)")
    upto = F.least(F.col("period_ms") + HALF_HOUR_MS, F.col("end_ms")) - F.col("start_ms")
    since = F.greatest(F.col("period_ms"), F.col("start_ms")) - F.col("start_ms")

    def cumulative(elapsed: Column) -> Column:
        # integral division: "/" on decimals rounds its quotient to 6 places first, which
        # can carry 2.9999997 to 3 and put a mWh in the next half-hour
        product = energy * elapsed.cast("decimal(20,0)")
        return _div(product, duration)

    return exploded.select(
        "meter_id",
        "transformer_id",
        "line_id",
        "end_ms",
        "period_ms",
        (cumulative(upto) - cumulative(since)).alias("part_mwh"),
        "estimated",
    )


def _div(dividend: Column, divisor: Column) -> Column:
    """``floor(dividend / divisor)`` exactly, for non-negative decimals (SQL ``div``)."""
    return F.call_function("div", dividend, divisor).cast("long")


def tariff_frame(spark: SparkSession, tariff: Tariff) -> DataFrame:
    """The 48 half-hour prices, per mWh (a price per kWh / 10^6: exact)."""
    rows = [(slot, price) for slot, price in enumerate(tariff.prices_per_kwh)]
    frame = spark.createDataFrame(rows, "slot int, price_per_kwh decimal(18,6)")
    per_mwh = (F.col("price_per_kwh") / MWH_PER_KWH).cast("decimal(18,12)")
    return frame.select("slot", per_mwh.alias("price_per_mwh"))


def priced_parts(parts: DataFrame, spark: SparkSession, settings: BatchSettings) -> DataFrame:
    """Half-hour parts with their local day, month and cost under the tariff."""
    local = F.from_utc_timestamp(F.timestamp_millis(F.col("period_ms")), settings.time_zone)
    slot = F.hour(local) * 2 + F.floor(F.minute(local) / 30).cast("int")
    tariff = tariff_frame(spark, load_tariff(settings.tariff_csv, settings.currency))
    dated = parts.withColumn("day", F.to_date(local)).withColumn("slot", slot)
    joined = dated.join(F.broadcast(tariff), "slot")
    cost = (F.col("part_mwh").cast("decimal(18,0)") * F.col("price_per_mwh")).cast(COST)
    return joined.select(
        "meter_id",
        "transformer_id",
        "line_id",
        "end_ms",
        "period_ms",
        "day",
        F.trunc("day", "month").alias("month"),
        "part_mwh",
        cost.alias("cost"),
        "estimated",
    )


def _profile(period: str, part: str) -> Column:
    """Consecutive half-hour energies from the first to the last period, zeros included."""
    parts = F.map_from_entries(F.collect_list(F.struct(F.col(period), F.col(part))))
    first, last = F.min(period), F.max(period)
    return F.transform(
        F.sequence(first, last, F.lit(HALF_HOUR_MS).cast("long")),
        lambda p: F.coalesce(F.element_at(parts, p), F.lit(0).cast("long")),
    )


@dataclass(frozen=True)
class EnergyFrames:
    """What the energy job computes (lazily: Spark runs it when they are written)."""

    meter_day: DataFrame
    transformer_day: DataFrame
    line_day: DataFrame
    transformer_half_hours: DataFrame
    line_half_hours: DataFrame


def meter_days(priced: DataFrame, currency: str) -> DataFrame:
    grid = Window.partitionBy("meter_id", "day").orderBy(F.col("period_ms").desc())
    latest = priced.withColumn("_rank", F.row_number().over(grid))
    position = latest.where(F.col("_rank") == 1).select(
        "meter_id", "day", "transformer_id", "line_id"
    )
    half_hours = priced.groupBy("meter_id", "day", "month", "period_ms").agg(
        F.sum("part_mwh").alias("half_hour_mwh"), F.sum("cost").alias("half_hour_cost")
    )
    days = half_hours.groupBy("meter_id", "day", "month").agg(
        F.sum("half_hour_mwh").alias("energy_mwh"),
        F.sum("half_hour_cost").cast(COST).alias("cost"),
        F.timestamp_millis(F.min("period_ms")).alias("half_hours_from"),
        _profile("period_ms", "half_hour_mwh").alias("half_hours_mwh"),
    )
    intervals = priced.groupBy("meter_id", "day").agg(
        F.count_distinct("end_ms").cast("int").alias("intervals"),
        F.count_distinct(F.when(F.col("estimated"), F.col("end_ms")))
        .cast("int")
        .alias("estimated_intervals"),
    )
    days = days.join(intervals, ["meter_id", "day"])
    return days.join(position, ["meter_id", "day"]).withColumn("currency", F.lit(currency))


def meter_months(days: DataFrame) -> DataFrame:
    """Months from every stored day of them (a run over part of a month adds its days to
    those earlier runs stored); ``whole_month`` when every day of the month has a row."""
    months = days.groupBy("meter_id", "month").agg(
        F.sum("energy_mwh").alias("energy_mwh"),
        F.sum("cost").cast(COST).alias("cost"),
        F.first("currency").alias("currency"),
        F.count("day").cast("int").alias("days"),
    )
    whole = F.col("days") == F.dayofmonth(F.last_day(F.col("month")))
    return months.withColumn("whole_month", whole)


def group_half_hours(priced: DataFrame, key: str) -> DataFrame:
    """Summed half-hour load of the meters under a transformer (or on a line)."""
    return (
        priced.where(F.col(key).isNotNull())
        .groupBy(key, "day", "month", "period_ms")
        .agg(
            F.sum("part_mwh").alias("load_mwh"),
            F.sum("cost").cast(COST).alias("load_cost"),
            F.count_distinct("meter_id").alias("meters"),
        )
        .withColumn("kw", F.col("load_mwh") / MWH_PER_HALF_HOUR_TO_KW)
    )


def group_days(half_hours: DataFrame, key: str, currency: str) -> DataFrame:
    peak = F.max_by(F.col("period_ms"), F.col("load_mwh"))
    return (
        half_hours.groupBy(key, "day", "month")
        .agg(
            F.max("meters").cast("int").alias("meters"),
            F.sum("load_mwh").alias("energy_mwh"),
            F.sum("load_cost").cast(COST).alias("cost"),
            F.timestamp_millis(F.min("period_ms")).alias("half_hours_from"),
            _profile("period_ms", "load_mwh").alias("half_hours_mwh"),
            F.max("kw").alias("peak_kw"),
            F.timestamp_millis(peak).alias("peak_at"),
        )
        .withColumn("currency", F.lit(currency))
    )


def energy_frames(
    readings: DataFrame,
    spark: SparkSession,
    settings: BatchSettings,
    first_day: object,
    last_day: object,
) -> EnergyFrames:
    """Daily and monthly energy and cost per meter, and half-hour load per transformer and
    line, for local days ``first_day..last_day`` (``readings`` must reach
    ``max_interval_days`` beyond both ends, so that every interval touching them is whole)."""
    intervals = counted_intervals(readings, settings)
    priced = priced_parts(half_hour_parts(intervals), spark, settings)
    in_range = priced.where(F.col("day").between(F.lit(first_day), F.lit(last_day))).persist()
    days = meter_days(in_range, settings.currency)
    transformer_half_hours = group_half_hours(in_range, "transformer_id")
    line_half_hours = group_half_hours(in_range, "line_id")
    return EnergyFrames(
        meter_day=days,
        transformer_day=group_days(transformer_half_hours, "transformer_id", settings.currency),
        line_day=group_days(line_half_hours, "line_id", settings.currency),
        transformer_half_hours=transformer_half_hours,
        line_half_hours=line_half_hours,
    )
