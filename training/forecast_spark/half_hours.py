"""Stored registers to half-hourly energy per meter: the pandas side of ``applyInPandas``.

Spark groups the readings by transformer and calls :func:`transformer_half_hours` once
per group, so a transformer's meters are turned into half-hours together (and the
transformer's forecast later finds them in one place). Timestamps cross the Spark/pandas
boundary as naive UTC (the session's time zone is UTC).
"""

from __future__ import annotations

import pandas as pd

from training.forecast import half_hourly_from_registers

READING_COLUMNS = ("meter_id", "transformer_id", "ts", "import_wh", "temperature_c")
HALF_HOUR_SCHEMA = (
    "meter_id string, transformer_id string, ts timestamp, kwh double, temperature_c double"
)
HALF_HOUR_COLUMNS = ("meter_id", "transformer_id", "ts", "kwh", "temperature_c")
NO_TRANSFORMER = ""
"""The group of meters without a transformer in their grid position (never a transformer)."""


def as_utc(ts: pd.Series) -> pd.Series:
    """Naive UTC (Spark) or aware timestamps as aware UTC, in nanoseconds (Arrow may hand
    over microseconds; the forecast library counts in nanoseconds)."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        aware: pd.Series = ts.dt.tz_convert("UTC")
    else:
        aware = pd.to_datetime(ts).dt.tz_localize("UTC")
    in_ns: pd.Series = aware.dt.as_unit("ns")
    return in_ns


def as_naive_utc(ts: pd.Series) -> pd.Series:
    """Aware timestamps as naive UTC, which Spark reads back in its UTC session."""
    naive: pd.Series = as_utc(ts).dt.tz_localize(None)
    return naive


def transformer_half_hours(readings: pd.DataFrame) -> pd.DataFrame:
    """Half-hourly kWh (and mean temperature) of every meter in ``readings``.

    ``readings`` has the :data:`READING_COLUMNS` of one transformer's meters (or of the
    meters without a transformer); the result has :data:`HALF_HOUR_COLUMNS`, half-hours
    without a known energy left out.
    """
    if readings.empty:
        return pd.DataFrame(columns=list(HALF_HOUR_COLUMNS))
    frame = readings.assign(ts=as_utc(readings["ts"])).rename(columns={"meter_id": "series_id"})
    transformer = frame.groupby("series_id")["transformer_id"].first().fillna(NO_TRANSFORMER)
    halves = half_hourly_from_registers(frame[["series_id", "ts", "import_wh", "temperature_c"]])
    halves = halves[halves["kwh"].notna()].rename(columns={"series_id": "meter_id"})
    out = halves.assign(
        transformer_id=halves["meter_id"].map(transformer).fillna(NO_TRANSFORMER),
        ts=as_naive_utc(halves["ts"]),
        temperature_c=halves["temperature_c"].astype(float),
        kwh=halves["kwh"].astype(float),
    )
    return out[list(HALF_HOUR_COLUMNS)].reset_index(drop=True)
