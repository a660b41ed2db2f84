"""Like days are found in local time, so clock changes neither lose nor shift a slot.

Europe/Lisbon springs forward on 2024-03-31 (01:00 WET -> 02:00 WEST: a 46-half-hour
day) and falls back on 2024-10-27 (02:00 WEST -> 01:00 WET: a 50-half-hour day). The
meters here use energy that depends on the local weekday and wall-clock time only, so a
like-day estimate built in local time reproduces it exactly, clock change or not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from batch_app.estimation import Method, MethodPolicy, estimate_meter

LISBON = "Europe/Lisbon"


def wall_clock_meter(first_day: str, last_day: str) -> pd.DataFrame:
    """Half-hourly readings whose interval energy is a function of local weekday and time."""
    ends = pd.date_range(f"{first_day} 00:00Z", f"{last_day} 00:00Z", freq="30min")
    local = ends.tz_convert(LISBON)
    shape = 10.0 + local.weekday * 3.0 + local.hour * 2.0 + local.minute / 30
    energy = np.asarray(shape, dtype=float)
    energy[0] = 0.0
    return pd.DataFrame(
        {
            "ts": ends.to_numpy(dtype="datetime64[ms]").astype(np.int64),
            "import_wh": 5_000.0 + np.cumsum(energy),
            "local": local,
        }
    )


def hide_local_day(meter: pd.DataFrame, day: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readings without the local day's interval ends, the hidden ones)."""
    start = pd.Timestamp(day)
    end = (start + pd.Timedelta(days=1)).tz_localize(LISBON)  # next local midnight
    inside = (meter["local"] > start.tz_localize(LISBON)) & (meter["local"] <= end)
    return meter[~inside].drop(columns="local"), meter[inside].drop(columns="local")


def estimate(readings: pd.DataFrame, method: Method) -> pd.DataFrame:
    return estimate_meter(
        readings,
        first_ms=int(readings["ts"].min()),
        last_ms=int(readings["ts"].max()),
        time_zone=LISBON,
        policy=MethodPolicy.only(method),
    )


@pytest.mark.parametrize(
    ("first_day", "day", "last_day", "slots"),
    [
        ("2024-03-03", "2024-03-31", "2024-04-28", 46),
        ("2024-09-29", "2024-10-27", "2024-11-24", 50),
    ],
)
def test_a_lost_clock_change_day_is_rebuilt_slot_for_slot_from_like_days(
    first_day: str, day: str, last_day: str, slots: int
) -> None:
    readings, hidden = hide_local_day(wall_clock_meter(first_day, last_day), day)
    rows = estimate(readings, Method.LIKE_DAY)
    assert len(hidden) == slots
    assert list(rows["ts"]) == list(hidden["ts"])
    assert set(rows["method"]) == {"like_day"}
    assert np.allclose(rows["import_wh"], hidden["import_wh"], rtol=0, atol=1e-6)


def test_a_slot_that_did_not_exist_last_week_is_no_like_slot() -> None:
    meter = wall_clock_meter("2024-03-03", "2024-04-28")
    # 2024-04-07 00:00-03:00 local (WEST): last week's 01:30 fell in the spring-forward hole.
    start = pd.Timestamp("2024-04-07 00:00", tz=LISBON)
    inside = (meter["local"] > start) & (meter["local"] <= start + pd.Timedelta(hours=3))
    readings, hidden = meter[~inside].drop(columns="local"), meter[inside]
    assert set(estimate(readings, Method.SEASONAL_NAIVE)["method"]) == {"linear"}
    like = estimate(readings, Method.LIKE_DAY)
    assert set(like["method"]) == {"like_day"}
    assert np.allclose(like["import_wh"], hidden["import_wh"], rtol=0, atol=1e-6)


def test_the_day_after_a_clock_change_takes_the_same_wall_clock_week_ago() -> None:
    meter = wall_clock_meter("2024-03-10", "2024-04-14")
    readings, hidden = hide_local_day(meter, "2024-04-01")  # Monday after the change
    rows = estimate(readings, Method.SEASONAL_NAIVE)
    assert set(rows["method"]) == {"seasonal_naive"}
    assert np.allclose(rows["import_wh"], hidden["import_wh"], rtol=0, atol=1e-6)
