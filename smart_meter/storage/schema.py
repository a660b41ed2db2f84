"""The Cassandra schema, created idempotently by whichever service starts first.

Every table answers one question users ask, and every partition is bounded:

- ``readings_by_meter_day``: one meter over a time range, a meter-day per partition
  (48 rows at half-hourly reads, 1,440 at one a minute);
- ``readings_by_transformer_day``: one transformer over a day, all its meters;
- ``alerts_by_day``: what went wrong on a day, spread over :data:`EVENT_BUCKETS`
  partitions by meter (query ``bucket IN (0..15)``), clustered by kind;
- ``gaps_by_meter`` and ``voltage_events_by_meter``: a meter's gaps and EN 50160
  episodes, a meter-month per partition;
- ``late_events_by_day``: readings too late to process, with their payload;
- ``meter_totals_by_day``: a meter's running totals, a meter-month per partition, one
  row per day (local to the totals time zone, ``SMART_METER_VALIDATION_TOTALS__TIME_ZONE``):
  energy in exact mWh, cost under the tariff, the half-hours (energies of consecutive
  half-hours from ``half_hours_from``, UTC; they add up to the day; a load-profile array,
  six times cheaper for the driver to bind than a map keyed by timestamp), and the month
  to date through that day, so the month's total is its last row (``ORDER BY day DESC
  LIMIT 1``).

The batch jobs (``batch_app``) recompute over any date range and write their own tables,
keyed so that re-running a job for a range rewrites the same rows:

- ``energy_by_meter_day`` and ``energy_by_meter_month``: energy (mWh) and cost per local
  day and month, the day's half-hour profile (consecutive half-hours from
  ``half_hours_from``, zeros included), intervals counted and how many were estimated;
- ``load_by_transformer_day`` and ``load_by_line_day``: the summed half-hour load of the
  meters under a transformer or on a line, with the day's peak (kW) and when it was;
- ``completeness_by_meter_day``: expected intervals (46, 48 or 50 half-hours on a local
  day, by the meter's own interval) against actual and estimated readings received;
- ``temperature_fit``: daily energy against daily mean temperature per meter or
  transformer (correlation and a heating-degree-day fit) over a range;
- ``batch_runs``: which job ran over which range, when, and what it wrote.

The consumption forecasts (``python -m training forecast``):

- ``consumption_forecast``: a meter's or a transformer's forecast of a local day, a
  series per partition, latest day first: the half-hours (kWh, consecutive from
  ``half_hours_from``), their sum, the model and its version. Forecasting a day again
  overwrites its row.

The training jobs (``training``) write their predictions:

- ``voltage_prediction_latest``: each meter's latest score of a voltage event starting
  within the horizon (one row per meter, overwritten by each ``predict-voltage``);
- ``voltage_prediction_by_day``: every score kept, a UTC day per partition spread over
  :data:`EVENT_BUCKETS` buckets by meter (query ``bucket IN (0..15)``).

Estimated readings are rows of ``readings_by_meter_day`` with quality ``E`` and their
``estimation_method``, only at timestamps without an actual reading; an actual reading
stored later at that time replaces the values and the quality (``estimation_method`` is
meaningful only where ``quality = 'E'``).

Rows are keyed by natural keys (meter, event time; meter, episode start), so a retried
or redelivered write overwrites the same row instead of adding one.

The schema is created with ``cassandra-driver``, also where the streaming app writes its
rows with ``acsylla`` (``SMART_METER_APP_CASSANDRA_CLIENT``): creating it runs once per
process start and costs nothing per row, while the driver waits for schema agreement
after each DDL statement and hands back the table metadata (column types) that every
service here already reads through it (batch jobs, training, tests, benchmarks, the CQL
shell); acsylla would add a second schema path for no throughput.
"""

from __future__ import annotations

from cassandra.cluster import Session

from smart_meter.subjects import partition_of

EVENT_BUCKETS = 16
"""Partitions per day of the day-keyed event tables: ``bucket = crc32(meter_id) % 16``."""


def event_bucket(meter_id: str) -> int:
    """The bucket of a meter in the day-keyed event tables."""
    return partition_of(meter_id, EVENT_BUCKETS)


def keyspace_cql(keyspace: str, replication: int) -> str:
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = "
        f"{{'class': 'SimpleStrategy', 'replication_factor': {replication}}}"
    )


_READING_COLUMNS = """
        seq bigint,
        import_wh double,
        voltage_v frozen<list<double>>,
        current_a frozen<list<double>>,
        temperature_c double,
        line_id text,
        usage_point_id text,
        quality text,
        estimation_method text,
        failed_rules frozen<set<text>>,
        lateness text,
        status text,
        ingested_at timestamp,"""

TABLES = (
    f"""
    CREATE TABLE IF NOT EXISTS readings_by_meter_day (
        meter_id text,
        day date,
        ts timestamp,
        transformer_id text,{_READING_COLUMNS}
        PRIMARY KEY ((meter_id, day), ts)
    ) WITH CLUSTERING ORDER BY (ts ASC)
    """,
    f"""
    CREATE TABLE IF NOT EXISTS readings_by_transformer_day (
        transformer_id text,
        day date,
        meter_id text,
        ts timestamp,{_READING_COLUMNS}
        PRIMARY KEY ((transformer_id, day), meter_id, ts)
    ) WITH CLUSTERING ORDER BY (meter_id ASC, ts ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS alerts_by_day (
        day date,
        bucket int,
        kind text,
        start_ts timestamp,
        meter_id text,
        end_ts timestamp,
        value double,
        threshold double,
        unit text,
        detail text,
        PRIMARY KEY ((day, bucket), kind, start_ts, meter_id)
    ) WITH CLUSTERING ORDER BY (kind ASC, start_ts ASC, meter_id ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS gaps_by_meter (
        meter_id text,
        month date,
        start_ts timestamp,
        end_ts timestamp,
        missing_intervals int,
        open boolean,
        detected_by text,
        filled_at timestamp,
        PRIMARY KEY ((meter_id, month), start_ts)
    ) WITH CLUSTERING ORDER BY (start_ts ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS voltage_events_by_meter (
        meter_id text,
        month date,
        start_ts timestamp,
        end_ts timestamp,
        min_v double,
        max_v double,
        direction text,
        duration text,
        readings int,
        ongoing boolean,
        PRIMARY KEY ((meter_id, month), start_ts)
    ) WITH CLUSTERING ORDER BY (start_ts ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS late_events_by_day (
        day date,
        bucket int,
        ts timestamp,
        meter_id text,
        watermark timestamp,
        lateness text,
        behind_ms bigint,
        reading text,
        PRIMARY KEY ((day, bucket), ts, meter_id)
    ) WITH CLUSTERING ORDER BY (ts ASC, meter_id ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS meter_totals_by_day (
        meter_id text,
        month date,
        day date,
        energy_mwh bigint,
        cost decimal,
        currency text,
        half_hours_from timestamp,
        half_hours_mwh frozen<list<bigint>>,
        month_energy_mwh bigint,
        month_cost decimal,
        through_ts timestamp,
        final boolean,
        PRIMARY KEY ((meter_id, month), day)
    ) WITH CLUSTERING ORDER BY (day ASC)
    """,
)


FORECAST_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS consumption_forecast (
        series text,
        series_id text,
        day date,
        transformer_id text,
        model text,
        version text,
        half_hours_from timestamp,
        half_hours_kwh frozen<list<double>>,
        energy_kwh double,
        PRIMARY KEY ((series, series_id), day)
    ) WITH CLUSTERING ORDER BY (day DESC)
    """,
)


def _group_load_table(name: str, key: str) -> str:
    """A day of summed half-hour load per group of meters (a transformer, a line)."""
    return f"""
    CREATE TABLE IF NOT EXISTS {name} (
        {key} text,
        month date,
        day date,
        meters int,
        energy_mwh bigint,
        cost decimal,
        currency text,
        half_hours_from timestamp,
        half_hours_mwh frozen<list<bigint>>,
        peak_kw double,
        peak_at timestamp,
        PRIMARY KEY (({key}, month), day)
    ) WITH CLUSTERING ORDER BY (day ASC)
    """


BATCH_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS energy_by_meter_day (
        meter_id text,
        month date,
        day date,
        transformer_id text,
        line_id text,
        energy_mwh bigint,
        cost decimal,
        currency text,
        half_hours_from timestamp,
        half_hours_mwh frozen<list<bigint>>,
        intervals int,
        estimated_intervals int,
        PRIMARY KEY ((meter_id, month), day)
    ) WITH CLUSTERING ORDER BY (day ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS energy_by_meter_month (
        meter_id text,
        month date,
        energy_mwh bigint,
        cost decimal,
        currency text,
        days int,
        whole_month boolean,
        PRIMARY KEY ((meter_id), month)
    ) WITH CLUSTERING ORDER BY (month ASC)
    """,
    _group_load_table("load_by_transformer_day", "transformer_id"),
    _group_load_table("load_by_line_day", "line_id"),
    """
    CREATE TABLE IF NOT EXISTS completeness_by_meter_day (
        meter_id text,
        month date,
        day date,
        interval_minutes int,
        expected int,
        received int,
        estimated int,
        completeness double,
        PRIMARY KEY ((meter_id, month), day)
    ) WITH CLUSTERING ORDER BY (day ASC)
    """,
    """
    CREATE TABLE IF NOT EXISTS temperature_fit (
        level text,
        id text,
        first_day date,
        last_day date,
        days int,
        mean_temperature_c double,
        correlation double,
        base_kwh_per_day double,
        kwh_per_degree_day double,
        r2 double,
        base_temperature_c double,
        PRIMARY KEY ((level, id), first_day, last_day)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS batch_runs (
        job text,
        started_at timestamp,
        first_day date,
        last_day date,
        meters int,
        finished_at timestamp,
        outcome text,
        written map<text, bigint>,
        PRIMARY KEY ((job), started_at)
    ) WITH CLUSTERING ORDER BY (started_at DESC)
    """,
)

_PREDICTION_COLUMNS = """
        transformer_id text,
        probability double,
        predicted int,
        threshold double,
        horizon_hours int,
        model text,
        version text,
        predicted_at timestamp,"""

PREDICTION_TABLES = (
    f"""
    CREATE TABLE IF NOT EXISTS voltage_prediction_latest (
        meter_id text,
        hour_ts timestamp,{_PREDICTION_COLUMNS}
        PRIMARY KEY ((meter_id))
    )
    """,
    f"""
    CREATE TABLE IF NOT EXISTS voltage_prediction_by_day (
        day date,
        bucket int,
        meter_id text,
        hour_ts timestamp,{_PREDICTION_COLUMNS}
        PRIMARY KEY ((day, bucket), meter_id, hour_ts)
    ) WITH CLUSTERING ORDER BY (meter_id ASC, hour_ts ASC)
    """,
)

ADDED_COLUMNS = (("readings_by_meter_day", "status", "text"),)
"""Columns added after a table was first released: ``(table, column, type)``."""


def ensure_schema(session: Session, keyspace: str, replication: int = 1) -> None:
    """Create the keyspace and every table if missing; safe to run concurrently."""
    session.execute(keyspace_cql(keyspace, replication))
    for statement in TABLES + BATCH_TABLES + FORECAST_TABLES + PREDICTION_TABLES:
        session.execute(
            statement.replace(
                "CREATE TABLE IF NOT EXISTS ", f"CREATE TABLE IF NOT EXISTS {keyspace}.", 1
            )
        )
    for table, column, cql_type in ADDED_COLUMNS:
        _add_column(session, keyspace, table, column, cql_type)


def _add_column(session: Session, keyspace: str, table: str, column: str, cql_type: str) -> None:
    """``ALTER TABLE ... ADD`` unless the column is there (a table made by an older release)."""
    found = session.execute(
        "SELECT column_name FROM system_schema.columns "
        "WHERE keyspace_name = %s AND table_name = %s AND column_name = %s",
        (keyspace, table, column),
    ).one()
    if found is None:
        session.execute(f"ALTER TABLE {keyspace}.{table} ADD IF NOT EXISTS {column} {cql_type}")
