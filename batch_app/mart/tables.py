"""The tables of the reporting mart, in schema ``mart``, with what each column means.

The comments are what Excel, Power Query and ODBC users see beside the data, so they
say the unit and where a figure comes from.
"""

from __future__ import annotations

from batch_app.mart.columns import Column, Kind, RangeUnit, Table

SCHEMA = "mart"

METER = Column("meter_id", Kind.TEXT, "Meter identifier, as the meter sends it")
TRANSFORMER = Column("transformer_id", Kind.TEXT, "Distribution transformer identifier")
DAY = Column("day", Kind.DATE, "Local day (in the batch time zone) the figures cover")
MONTH = Column("month", Kind.MONTH, "First day of the local month the figures cover")
ENERGY_MWH = Column("energy_mwh", Kind.BIGINT, "Energy imported, in exact milliwatt-hours")
ENERGY_KWH = Column("energy_kwh", Kind.FLOAT, "Energy imported, in kWh (energy_mwh / 1e6)")
COST = Column("cost", Kind.DECIMAL, "Cost of the energy under the time-of-day tariff, exact")
CURRENCY = Column("currency", Kind.TEXT, "ISO 4217 currency of cost, e.g. EUR")

METER_DAILY = Table(
    name="meter_daily",
    comment="Energy and cost per meter and local day, from the cumulative register "
    "attributed to the day in proportion to time (estimated intervals included).",
    columns=(
        METER,
        DAY,
        Column("transformer_id", Kind.TEXT, "Transformer the meter hangs off", nullable=True),
        Column("line_id", Kind.TEXT, "Feeder line the meter hangs off", nullable=True),
        ENERGY_KWH,
        ENERGY_MWH,
        COST,
        CURRENCY,
        Column("readings", Kind.INT, "Actual readings received for the day"),
        Column("estimated_intervals", Kind.INT, "Intervals filled by VEE estimation (flag E)"),
    ),
    key=("meter_id", "day"),
    range_column="day",
    range_unit=RangeUnit.DAY,
    indexes=(("day",), ("transformer_id", "day")),
)

METER_MONTHLY = Table(
    name="meter_monthly",
    comment="Energy and cost per meter and local month: the sum of its days.",
    columns=(
        METER,
        MONTH,
        ENERGY_MWH,
        ENERGY_KWH,
        COST,
        CURRENCY,
        Column("days", Kind.INT, "Days of the month with figures for the meter"),
    ),
    key=("meter_id", "month"),
    range_column="month",
    range_unit=RangeUnit.MONTH,
    indexes=(("month",),),
)

TRANSFORMER_DAILY = Table(
    name="transformer_daily",
    comment="Energy, cost and peak load per transformer and local day: the sum of its meters.",
    columns=(
        TRANSFORMER,
        DAY,
        Column("meters", Kind.INT, "Meters with figures for the day"),
        ENERGY_MWH,
        ENERGY_KWH,
        COST,
        CURRENCY,
        Column("peak_kw", Kind.FLOAT, "Highest half-hourly mean load, in kW", nullable=True),
        Column("peak_at", Kind.TIMESTAMP, "Start of the peak half-hour (UTC)", nullable=True),
    ),
    key=("transformer_id", "day"),
    range_column="day",
    range_unit=RangeUnit.DAY,
    indexes=(("day",),),
)

TRANSFORMER_MONTHLY = Table(
    name="transformer_monthly",
    comment="Energy and cost per transformer and local month.",
    columns=(TRANSFORMER, MONTH, ENERGY_MWH, ENERGY_KWH, COST, CURRENCY),
    key=("transformer_id", "month"),
    range_column="month",
    range_unit=RangeUnit.MONTH,
    indexes=(("month",),),
)

COMPLETENESS = Table(
    name="completeness",
    comment="Expected against received intervals per meter and local day, in the meter's "
    "interval (46 or 50 half-hours on clock-change days).",
    columns=(
        METER,
        DAY,
        Column("interval_minutes", Kind.INT, "The meter's reading interval, in minutes"),
        Column("expected", Kind.INT, "Intervals the day should have"),
        Column("received", Kind.INT, "Intervals with an actual reading"),
        Column("estimated", Kind.INT, "Intervals filled by VEE estimation"),
        Column("completeness", Kind.FLOAT, "received / expected, from 0 to 1"),
    ),
    key=("meter_id", "day"),
    range_column="day",
    range_unit=RangeUnit.DAY,
    indexes=(("day",),),
    checks=("completeness BETWEEN 0 AND 1",),
)

GAPS = Table(
    name="gaps",
    comment="Runs of missing intervals per meter, by the local day they started on.",
    columns=(
        METER,
        Column("start_ts", Kind.TIMESTAMP, "First missing interval (UTC)"),
        Column("end_ts", Kind.TIMESTAMP, "Reading that closed the gap (UTC)", nullable=True),
        Column("missing_intervals", Kind.INT, "Intervals missing", nullable=True),
        Column("open", Kind.BOOL, "True while no reading has closed the gap"),
        Column(
            "detected_by",
            Kind.TEXT,
            "What found the gap (the streaming gap rule, a watermark, a fill); empty when "
            "only the reading that closed it was recorded",
            nullable=True,
        ),
    ),
    key=("meter_id", "start_ts"),
    range_column="start_ts",
    range_unit=RangeUnit.INSTANT,
    indexes=(("start_ts",),),
)

ALERTS = Table(
    name="alerts",
    comment="What went wrong, per local day: validation alerts by kind.",
    columns=(
        DAY,
        Column("kind", Kind.TEXT, "Alert kind, e.g. spike, register_decrease, voltage_sag"),
        Column("start_ts", Kind.TIMESTAMP, "When the condition began (UTC)"),
        METER,
        Column("end_ts", Kind.TIMESTAMP, "When it ended (UTC)", nullable=True),
        Column("value", Kind.FLOAT, "The value that raised the alert", nullable=True),
        Column("threshold", Kind.FLOAT, "The limit it crossed", nullable=True),
        Column("unit", Kind.TEXT, "Unit of value and threshold", nullable=True),
        Column("detail", Kind.TEXT, "Free-text detail", nullable=True),
    ),
    key=("day", "kind", "meter_id", "start_ts"),
    range_column="day",
    range_unit=RangeUnit.DAY,
    indexes=(("meter_id", "day"),),
)

READINGS = Table(
    name="readings",
    comment="Every stored reading of the refreshed days, with its flags: what the Meter "
    "Drill-Down dashboard shows reading by reading.",
    columns=(
        METER,
        Column("ts", Kind.TIMESTAMP, "Event time of the reading (UTC)"),
        Column("import_wh", Kind.FLOAT, "Cumulative import register, in Wh", nullable=True),
        Column(
            "energy_wh",
            Kind.FLOAT,
            "Import since the meter's previous stored reading, in Wh (empty for the first "
            "reading of the range)",
            nullable=True,
        ),
        Column("voltage_min_v", Kind.FLOAT, "Lowest phase voltage, in V", nullable=True),
        Column("voltage_max_v", Kind.FLOAT, "Highest phase voltage, in V", nullable=True),
        Column("quality", Kind.TEXT, "A actual, E estimated, S substituted", nullable=True),
        Column("status", Kind.TEXT, "The streaming app's verdict", nullable=True),
        Column("lateness", Kind.TEXT, "ON_TIME, LATE or TOO_LATE", nullable=True),
        Column("failed_rules", Kind.TEXT, "Ids of the rules it failed, comma-separated"),
    ),
    key=("meter_id", "ts"),
    range_column="ts",
    range_unit=RangeUnit.INSTANT,
    indexes=(("ts",),),
)

TABLES: tuple[Table, ...] = (
    METER_DAILY,
    METER_MONTHLY,
    TRANSFORMER_DAILY,
    TRANSFORMER_MONTHLY,
    COMPLETENESS,
    GAPS,
    ALERTS,
    READINGS,
)
