"""What a meter actually used, interval by interval, and the same slots in other weeks.

Like-day and seasonal-naive estimates read the meter's own past (and, when allowed,
future) interval energies. Only intervals measured end to end count: the interval ending
at a reading whose predecessor is exactly one interval earlier, with a register that did
not go down (a rollover or reset says nothing about that half-hour's use).

Weeks are shifted in local wall time, not by 7 × 24 h: across a clock change the
same-weekday 18:00 is 167 or 169 hours away, and it is 18:00 that looks alike. A local
time that does not exist on the target day (the spring-forward hour) has no like slot;
a repeated one (the autumn hour) takes its first occurrence.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from batch_app.estimation.grid import DAY_MS, WEEK_MS, Timestamps

Energies = npt.NDArray[np.float64]


def interval_energies(times: Timestamps, registers: Energies, interval_ms: int) -> pd.Series:
    """Energy (Wh) of each fully measured on-grid interval, indexed by its end (epoch ms)."""
    steps = np.diff(times)
    used = np.diff(registers)
    ends = times[1:]
    measured = (steps == interval_ms) & (ends % interval_ms == 0) & (used >= 0)
    return pd.Series(used[measured], index=ends[measured], dtype="float64")


def local_wall_times(ends_ms: Timestamps, time_zone: str) -> pd.DatetimeIndex:
    """The local wall-clock times (naive) of instants given in epoch ms."""
    utc = pd.DatetimeIndex(pd.to_datetime(ends_ms, unit="ms", utc=True))
    return utc.tz_convert(time_zone).tz_localize(None)


def shift_weeks(wall: pd.DatetimeIndex, weeks: int, time_zone: str) -> Timestamps:
    """The same local wall times ``weeks`` weeks later (earlier if negative), epoch ms.

    A wall time that does not exist in the target week comes back as -1, which is on no
    grid and so never matches a measured interval.
    """
    target = wall + pd.Timedelta(weeks=weeks)
    first_occurrence = np.ones(len(target), dtype=bool)
    shifted = target.tz_localize(time_zone, ambiguous=first_occurrence, nonexistent="NaT")
    instants = shifted.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ms]")
    as_ms: Timestamps = instants.astype(np.int64)
    as_ms[np.isnat(instants)] = -1
    return as_ms


def _lookup(energies: pd.Series, ends_ms: Timestamps) -> Energies:
    """Energies at ``ends_ms``, NaN where no measured interval ends there."""
    known: Timestamps = energies.index.to_numpy(np.int64)
    values: Energies = energies.to_numpy(np.float64)
    found: Energies = np.full(len(ends_ms), np.nan)
    if len(known):
        where = np.minimum(np.searchsorted(known, ends_ms), len(known) - 1)
        hit = known[where] == ends_ms
        found[hit] = values[where[hit]]
    return found


def like_weeks_mean(
    ends_ms: Timestamps,
    energies: pd.Series,
    time_zone: str,
    *,
    week_shifts: list[int],
    days: int,
) -> Energies | None:
    """Mean energy of the slots ``ends_ms`` over the first ``days`` valid week shifts.

    A shift is valid when every slot of the gap is a measured interval in that week, so
    that one day's profile is never stitched from different weeks. ``None`` when no
    shift is valid. Shifts that land wholly outside the measured history are skipped
    before any time-zone arithmetic (a clock change moves a slot by an hour, not a day).
    """
    if energies.empty:
        return None
    wall = local_wall_times(ends_ms, time_zone)
    first_known, last_known = int(energies.index[0]), int(energies.index[-1])
    found: list[Energies] = []
    for weeks in week_shifts:
        moved = weeks * WEEK_MS
        if ends_ms[0] + moved > last_known + DAY_MS or ends_ms[-1] + moved < first_known - DAY_MS:
            continue
        like = _lookup(energies, shift_weeks(wall, weeks, time_zone))
        if not np.isnan(like).any():
            found.append(like)
            if len(found) == days:
                break
    if not found:
        return None
    mean: Energies = np.mean(np.vstack(found), axis=0)
    return mean


def nearest_first(max_weeks: int, *, look_forward: bool) -> list[int]:
    """Week shifts by distance, the past first at equal distance: -1, 1, -2, 2, ..."""
    shifts: list[int] = []
    for weeks in range(1, max_weeks + 1):
        shifts.append(-weeks)
        if look_forward:
            shifts.append(weeks)
    return shifts
