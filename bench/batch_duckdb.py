"""The daily-energy computation in DuckDB SQL, and the check that it agrees with Spark.

Written from the semantics (``smart_meter.energy.attribution`` and ``batch_app.energy``),
not translated from the Spark plan: consecutive counted readings of a meter make an
interval; its energy is the register difference in whole mWh (Watt-hours x 1000 rounded
half to even, as Python's ``round``; a lower register the rule let through is a rollover
if the wrapped energy fits the connection's ``max_kw``); it is split over the epoch
half-hours it touches by cumulative floors ``E * t // T`` in integers; each part is
priced by the tariff of its local half-hour and summed per meter and local day. The
output has the columns of Spark's ``meter_day`` that the check compares (the half-hour
profile as the list of the day's half-hours: no zeros to fill, as no half-hour between a
day's first and last is left without a part unless a silence over ``max_interval_days``
was dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from batch_app.energy import DAY_MS, MS_PER_HOUR, MWH_PER_KWH
from batch_app.settings import BatchSettings
from smart_meter.energy.attribution import HALF_HOUR_MS
from smart_meter.energy.tariff import load_tariff


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def tariff_values(settings: BatchSettings) -> str:
    """The 48 prices per mWh, exact (a price per kWh / 10^6), as a VALUES list."""
    tariff = load_tariff(settings.tariff_csv, settings.currency)
    rows = [
        f"({slot}, {Decimal(str(price)) / MWH_PER_KWH}::DECIMAL(18,12))"
        for slot, price in enumerate(tariff.prices_per_kwh)
    ]
    return ",\n        ".join(rows)


def meter_day_sql(
    readings_glob: str, settings: BatchSettings, first_day: date, last_day: date, widen_days: int
) -> str:
    """Per meter and local day: energy (mWh), cost, intervals, the half-hour profile and the
    transformer and line of the day's last half-hour."""
    rule, zone = _text(settings.register_rule_id), _text(settings.time_zone)
    read_from = first_day - timedelta(days=widen_days)
    read_to = last_day + timedelta(days=widen_days)
    return f"""
WITH tariff(slot, price_per_mwh) AS (VALUES
        {tariff_values(settings)}
),
readings AS (
    SELECT meter_id, transformer_id, line_id, import_wh, quality = 'E' AS estimated,
           list_contains(coalesce(failed_rules, []::VARCHAR[]), {rule}) AS register_failed,
           epoch_ms(ts) AS ts_ms
    FROM read_parquet({_text(readings_glob)})
    WHERE day BETWEEN DATE '{read_from}' AND DATE '{read_to}' AND quality IN ('A', 'E')
),
counted AS (
    SELECT * FROM readings
    WHERE NOT register_failed OR import_wh < {settings.reset_below_wh}
),
intervals AS (
    SELECT meter_id, transformer_id, line_id, estimated, register_failed,
           lag(ts_ms) OVER by_meter AS start_ms, ts_ms AS end_ms,
           CAST(round_even(import_wh * 1000, 0) AS BIGINT)
             - CAST(round_even(lag(import_wh) OVER by_meter * 1000, 0) AS BIGINT) AS delta_mwh,
           {settings.rollover_at_wh} - lag(import_wh) OVER by_meter + import_wh AS wrapped_wh
    FROM counted
    WINDOW by_meter AS (PARTITION BY meter_id ORDER BY ts_ms)
),
energies AS (
    SELECT meter_id, transformer_id, line_id, estimated, start_ms, end_ms,
           end_ms - start_ms AS duration_ms,
           greatest(CASE WHEN delta_mwh < 0 AND NOT register_failed AND wrapped_wh >= 0
                              AND wrapped_wh <= {settings.max_kw} * 1000.0
                                                * (end_ms - start_ms) / {MS_PER_HOUR}.0
                         THEN CAST(round_even(wrapped_wh * 1000, 0) AS BIGINT)
                         ELSE delta_mwh END, 0)::HUGEINT AS energy_mwh
    FROM intervals
    WHERE start_ms IS NOT NULL AND end_ms - start_ms <= {settings.max_interval_days * DAY_MS}
),
periods AS (
    SELECT *, unnest(range(start_ms // {HALF_HOUR_MS} * {HALF_HOUR_MS}, end_ms,
                           {HALF_HOUR_MS})) AS period_ms
    FROM energies
),
parts AS (
    SELECT meter_id, transformer_id, line_id, estimated, end_ms, period_ms,
           CAST(energy_mwh * (least(period_ms + {HALF_HOUR_MS}, end_ms) - start_ms)
                  // duration_ms
                - energy_mwh * (greatest(period_ms, start_ms) - start_ms) // duration_ms
                AS BIGINT) AS part_mwh,
           timezone({zone}, to_timestamp(period_ms // 1000)) AS local_start
    FROM periods
),
priced AS (
    SELECT p.*, CAST(local_start AS DATE) AS day,
           CAST(CAST(p.part_mwh AS DECIMAL(18,0)) * t.price_per_mwh AS DECIMAL(38,10)) AS cost
    FROM parts p
    JOIN tariff t ON t.slot = hour(local_start) * 2 + minute(local_start) // 30
    WHERE CAST(local_start AS DATE) BETWEEN DATE '{first_day}' AND DATE '{last_day}'
),
half_hours AS (
    SELECT meter_id, day, period_ms, sum(part_mwh) AS half_hour_mwh, sum(cost) AS cost,
           arg_max(transformer_id, end_ms) AS transformer_id,
           arg_max(line_id, end_ms) AS line_id
    FROM priced
    GROUP BY meter_id, day, period_ms
),
counts AS (
    SELECT meter_id, day, count(DISTINCT end_ms)::INTEGER AS intervals,
           (count(DISTINCT end_ms) FILTER (WHERE estimated))::INTEGER AS estimated_intervals
    FROM priced
    GROUP BY meter_id, day
),
days AS (
    SELECT meter_id, day, date_trunc('month', day)::DATE AS month,
           sum(half_hour_mwh)::BIGINT AS energy_mwh,
           CAST(sum(cost) AS DECIMAL(38,10)) AS cost,
           to_timestamp(min(period_ms) // 1000) AS half_hours_from,
           list(half_hour_mwh::BIGINT ORDER BY period_ms) AS half_hours_mwh,
           arg_max(transformer_id, period_ms) AS transformer_id,
           arg_max(line_id, period_ms) AS line_id
    FROM half_hours
    GROUP BY meter_id, day
)
SELECT * FROM days JOIN counts USING (meter_id, day)
"""


def run_duckdb(sql: str, out: Path) -> None:
    """Materialise the result to Parquet (as Spark does), in a fresh in-memory database."""
    out.unlink(missing_ok=True)
    with duckdb.connect() as db:
        db.execute(f"COPY ({sql}) TO {_text(str(out))} (FORMAT parquet)")


@dataclass(frozen=True)
class Agreement:
    """How the two results compare, meter-day by meter-day."""

    spark_rows: int
    duckdb_rows: int
    only_one_side: int
    energy_differs: int
    cost_differs: int
    other_differs: int  # profile, intervals, transformer or line
    spark_energy_mwh: int
    duckdb_energy_mwh: int
    spark_cost: Decimal
    duckdb_cost: Decimal
    examples: list[tuple[object, ...]]

    @property
    def equal(self) -> bool:
        return (
            self.spark_rows == self.duckdb_rows
            and not (self.only_one_side or self.energy_differs or self.cost_differs)
            and not self.other_differs
            and self.spark_energy_mwh == self.duckdb_energy_mwh
            and self.spark_cost == self.duckdb_cost
        )


COMPARE_SQL = """
WITH s AS (SELECT * FROM read_parquet({spark})), d AS (SELECT * FROM read_parquet({duck})),
j AS (
    SELECT meter_id, day, s.meter_id IS NULL OR d.meter_id IS NULL AS one_side,
           s.energy_mwh AS s_mwh, d.energy_mwh AS d_mwh, s.cost AS s_cost, d.cost AS d_cost,
           s.half_hours_mwh IS DISTINCT FROM d.half_hours_mwh
             OR s.half_hours_from IS DISTINCT FROM d.half_hours_from
             OR s.intervals IS DISTINCT FROM d.intervals
             OR s.estimated_intervals IS DISTINCT FROM d.estimated_intervals
             OR s.transformer_id IS DISTINCT FROM d.transformer_id
             OR s.line_id IS DISTINCT FROM d.line_id AS other
    FROM s FULL JOIN d USING (meter_id, day)
)
SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM d),
       count(*) FILTER (WHERE one_side),
       count(*) FILTER (WHERE s_mwh IS DISTINCT FROM d_mwh),
       count(*) FILTER (WHERE s_cost IS DISTINCT FROM d_cost),
       count(*) FILTER (WHERE other),
       (SELECT sum(energy_mwh) FROM s)::BIGINT, (SELECT sum(energy_mwh) FROM d)::BIGINT,
       (SELECT sum(cost) FROM s), (SELECT sum(cost) FROM d)
FROM j
"""

EXAMPLES_SQL = """
SELECT meter_id, day, s.energy_mwh, d.energy_mwh, s.cost, d.cost, s.intervals, d.intervals
FROM read_parquet({spark}) s FULL JOIN read_parquet({duck}) d USING (meter_id, day)
WHERE s.energy_mwh IS DISTINCT FROM d.energy_mwh OR s.cost IS DISTINCT FROM d.cost
   OR s.half_hours_mwh IS DISTINCT FROM d.half_hours_mwh OR s.intervals IS DISTINCT FROM d.intervals
ORDER BY meter_id, day LIMIT 5
"""


def compare(spark_glob: str, duckdb_file: Path) -> Agreement:
    names = {"spark": _text(spark_glob), "duck": _text(str(duckdb_file))}
    with duckdb.connect() as db:
        row = db.execute(COMPARE_SQL.format(**names)).fetchone()
        assert row is not None
        examples = db.execute(EXAMPLES_SQL.format(**names)).fetchall()
    spark_rows, duck_rows, one_side, energy, cost, other, s_mwh, d_mwh, s_cost, d_cost = row
    return Agreement(
        spark_rows, duck_rows, one_side, energy, cost, other, s_mwh, d_mwh, s_cost, d_cost,
        examples,
    )  # fmt: skip
