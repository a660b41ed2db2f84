"""Estimates for one meter's gaps: the function the Spark job applies per meter.

Pure pandas in, pandas out, so that ``applyInPandas`` can call it once per meter and so
that it is tested without Spark. The same readings give the same rows (sorted, no
randomness, no clock), so re-running a job rewrites identical estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from batch_app.estimation.grid import HOUR_MS, Gap, find_gaps, infer_interval_ms
from batch_app.estimation.history import Energies, interval_energies
from batch_app.estimation.methods import (
    Method,
    like_day_weights,
    linear_weights,
    scale,
    seasonal_naive_weights,
)

ESTIMATE_COLUMNS: dict[str, str] = {
    "ts": "int64",
    "import_wh": "float64",
    "energy_wh": "float64",
    "method": "object",
    "gap_start_ms": "int64",
    "gap_end_ms": "int64",
}
"""Columns of :func:`estimate_meter`'s result and their pandas types."""

ESTIMATE_SCHEMA = (
    "ts long, import_wh double, energy_wh double, method string, gap_start_ms long, gap_end_ms long"
)
"""The same as a Spark DDL schema (``applyInPandas`` needs one; the caller adds the meter)."""

ESTIMATED_QUALITY = "E"


@dataclass(frozen=True)
class MethodPolicy:
    """Which method estimates a gap of a given length, and how like days are found.

    Gaps up to ``linear_limit_ms`` use ``short_gap``, longer ones ``long_gap``; a method
    without valid history falls back to linear, and the row says which method it got.
    """

    short_gap: Method = Method.LINEAR
    long_gap: Method = Method.LIKE_DAY
    like_days: int = 4
    max_weeks: int = 8
    look_forward: bool = True

    @classmethod
    def only(cls, method: Method) -> MethodPolicy:
        """Every gap by ``method`` (the accuracy benchmark compares methods this way)."""
        return cls(short_gap=method, long_gap=method)

    def method_for(self, gap: Gap, linear_limit_ms: int) -> Method:
        return self.short_gap if gap.duration_ms <= linear_limit_ms else self.long_gap


def _actual_readings(readings: pd.DataFrame) -> tuple[np.ndarray, Energies]:
    """Times (epoch ms) and registers of actual readings, sorted, one per time.

    Earlier estimates (quality ``E``) are not readings, so a second run sees what the
    first saw. Of two registers at one time the larger is kept, whatever the row order.
    """
    frame = readings
    if "quality" in frame.columns:
        frame = frame[frame["quality"] != ESTIMATED_QUALITY]
    ts = frame["ts"]
    if pd.api.types.is_datetime64_any_dtype(ts):
        ts = pd.to_datetime(ts, utc=True).dt.as_unit("ms").astype("int64")
    ordered = pd.DataFrame({"ts": ts.astype("int64"), "wh": frame["import_wh"].astype("float64")})
    ordered = ordered.dropna().sort_values(["ts", "wh"]).drop_duplicates("ts", keep="last")
    return ordered["ts"].to_numpy(np.int64), ordered["wh"].to_numpy(np.float64)


def _weights(
    method: Method, gap: Gap, energies: pd.Series, time_zone: str, policy: MethodPolicy
) -> tuple[Method, Energies]:
    """The method's weights, or linear's when it has no history or sees no use at all."""
    found: Energies | None = None
    if method is Method.LIKE_DAY:
        found = like_day_weights(
            gap,
            energies,
            time_zone,
            days=policy.like_days,
            max_weeks=policy.max_weeks,
            look_forward=policy.look_forward,
        )
    elif method is Method.SEASONAL_NAIVE:
        found = seasonal_naive_weights(gap, energies, time_zone)
    if found is None or not found.sum() > 0:
        return Method.LINEAR, linear_weights(gap)
    return method, found


def _gap_rows(
    gap: Gap, registers: tuple[float, float], method: Method, weights: Energies
) -> pd.DataFrame:
    before_wh, after_wh = registers
    estimated = scale(weights, before_wh, after_wh)
    count = len(gap.missing_ms)
    return pd.DataFrame(
        {
            "ts": np.array(gap.missing_ms, dtype=np.int64),
            "import_wh": estimated,
            "energy_wh": np.diff(estimated, prepend=before_wh),
            "method": [str(method)] * count,
            "gap_start_ms": np.full(count, gap.before_ms, dtype=np.int64),
            "gap_end_ms": np.full(count, gap.after_ms, dtype=np.int64),
        }
    )


def empty_estimates() -> pd.DataFrame:
    """No rows, with the result's columns and types."""
    return pd.DataFrame({name: pd.Series(dtype=kind) for name, kind in ESTIMATE_COLUMNS.items()})


def estimate_meter(
    readings: pd.DataFrame,
    *,
    first_ms: int,
    last_ms: int,
    time_zone: str,
    linear_limit_ms: int = 2 * HOUR_MS,
    policy: MethodPolicy | None = None,
    interval_ms: int | None = None,
) -> pd.DataFrame:
    """One row per missing reading time in ``[first_ms, last_ms]`` of one meter's closed gaps.

    ``readings``: ``ts`` (epoch ms, or datetimes) and ``import_wh`` (the register), and
    optionally ``quality`` (rows ``E`` are ignored). Readings outside the range are the
    history like days come from and the ends of gaps that cross the range; give them.
    Result (:data:`ESTIMATE_COLUMNS`): the time, the estimated register, the energy of
    the interval ending there, the method used, and the actual readings bounding the gap
    (``gap_start_ms``, ``gap_end_ms``). Open gaps and gaps whose register went down (a
    rollover or reset: no energy to share) give no rows; :func:`find_gaps` reports them.
    """
    chosen = policy or MethodPolicy()
    times, registers = _actual_readings(readings)
    if len(times) < 2:
        return empty_estimates()
    interval = interval_ms or infer_interval_ms(times)
    energies = interval_energies(times, registers, interval)
    register_at = dict(zip(times.tolist(), registers.tolist(), strict=True))
    frames = []
    for gap in find_gaps(times, interval, first_ms, last_ms):
        if gap.before_ms is None or gap.after_ms is None:
            continue
        ends = (register_at[gap.before_ms], register_at[gap.after_ms])
        if ends[1] < ends[0]:
            continue
        wanted = chosen.method_for(gap, linear_limit_ms)
        method, weights = _weights(wanted, gap, energies, time_zone, chosen)
        frames.append(_gap_rows(gap, ends, method, weights))
    if not frames:
        return empty_estimates()
    rows = pd.concat(frames, ignore_index=True)
    in_range = rows[(rows["ts"] >= first_ms) & (rows["ts"] <= last_ms)]
    return in_range.reset_index(drop=True).astype(ESTIMATE_COLUMNS)
