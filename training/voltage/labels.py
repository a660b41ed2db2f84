"""Labels: will a voltage event start at this meter within the next N hours?

An event is an EN 50160 episode the streaming app stored (``voltage_events_by_meter``)
that lasted at least ``min_event_minutes`` (``end_ts - start_ts``). A row is a meter-hour
``[hour_ms, hour_ms + 1 h)``: what is known at its end (its features) against whether a
qualifying event starts in ``[hour_ms + 1 h, hour_ms + 1 h + N h)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUR_MS = 3_600_000


def qualifying(events: pd.DataFrame, min_event_minutes: int) -> pd.DataFrame:
    """Events (``meter_id, start_ms, end_ms``) that lasted at least ``min_event_minutes``."""
    lasted_ms = events["end_ms"] - events["start_ms"]
    kept: pd.DataFrame = events.loc[lasted_ms >= min_event_minutes * 60_000]
    return kept


def _per_meter_starts(events: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        str(meter): np.sort(group["start_ms"].to_numpy(dtype=np.int64))
        for meter, group in events.groupby("meter_id")
    }


def label_hours(hours: pd.DataFrame, events: pd.DataFrame, horizon_hours: int) -> np.ndarray:
    """1 where a qualifying event starts within ``horizon_hours`` after the meter-hour ends
    (``hours``: ``meter_id, hour_ms``; ``events``: already :func:`qualifying`)."""
    starts = _per_meter_starts(events)
    labels = np.zeros(len(hours), dtype=np.int64)
    empty = np.array([], dtype=np.int64)
    for meter, index in hours.groupby("meter_id").indices.items():
        meter_starts = starts.get(str(meter), empty)
        window_lo = hours["hour_ms"].to_numpy(dtype=np.int64)[index] + HOUR_MS
        window_hi = window_lo + horizon_hours * HOUR_MS
        inside = np.searchsorted(meter_starts, window_hi, "left") - np.searchsorted(
            meter_starts, window_lo, "left"
        )
        labels[index] = (inside > 0).astype(np.int64)
    return labels


def event_now(hours: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """1 where a qualifying event overlaps the meter-hour: the persistence baseline."""
    flags = np.zeros(len(hours), dtype=np.int64)
    by_meter = {str(m): g for m, g in events.groupby("meter_id")}
    for meter, index in hours.groupby("meter_id").indices.items():
        group = by_meter.get(str(meter))
        if group is None:
            continue
        hour_ms = hours["hour_ms"].to_numpy(dtype=np.int64)[index]
        starts = group["start_ms"].to_numpy(dtype=np.int64)
        ends = group["end_ms"].to_numpy(dtype=np.int64)
        overlaps = (starts[None, :] < hour_ms[:, None] + HOUR_MS) & (
            ends[None, :] >= hour_ms[:, None]
        )
        flags[index] = overlaps.any(axis=1).astype(np.int64)
    return flags
