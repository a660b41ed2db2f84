"""The input frame: half-hours from cumulative registers, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.forecast import ForecastInputError, check_half_hourly, half_hourly_from_registers


def readings(times: list[str], registers: list[float]) -> pd.DataFrame:
    """One meter's readings on 2024-01-01 at the given ``HH:MM`` (UTC)."""
    ts = pd.to_datetime([f"2024-01-01T{t}:00Z" for t in times], utc=True)
    return pd.DataFrame({"series_id": "M1", "ts": ts, "import_wh": registers})


def test_register_differences_are_split_over_half_hours_in_proportion_to_time() -> None:
    frame = half_hourly_from_registers(
        readings(["00:00", "00:15", "01:00"], [0, 300, 1200]), max_step_s=3600
    )
    assert list(frame["ts"].dt.strftime("%H:%M")) == ["00:00", "00:30"]
    np.testing.assert_allclose(frame["kwh"], [0.3 + 0.3, 0.6])


def test_a_long_silence_or_a_falling_register_leaves_its_half_hours_missing() -> None:
    frame = half_hourly_from_registers(
        readings(
            ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30"],
            [0, 100, 400, 500, 10, 110],
        ).assign(
            ts=lambda f: pd.Timestamp("2024-01-01", tz="UTC") + (f["ts"] - f["ts"].dt.normalize())
        )
    )
    kwh = frame.set_index(frame["ts"].dt.strftime("%H:%M"))["kwh"]
    assert kwh["00:00"] == 0.1 and kwh["02:00"] == 0.1 and kwh["03:00"] == 0.1
    assert kwh[["00:30", "01:00", "01:30", "02:30"]].isna().all()


def test_temperature_is_averaged_per_half_hour() -> None:
    frame = half_hourly_from_registers(
        readings(["00:00", "00:30", "01:00"], [0, 1, 2]).assign(temperature_c=[4.0, 6.0, 8.0])
    )
    assert list(frame["temperature_c"]) == [4.0, 6.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="kwh"), "missing columns"),
        (lambda f: f.assign(ts=f["ts"].dt.tz_localize(None)), "timezone-aware"),
        (lambda f: f.assign(ts=f["ts"] + pd.Timedelta(minutes=5)), "start of a half-hour"),
        (lambda f: pd.concat([f, f]), "given twice"),
    ],
)
def test_a_malformed_frame_is_one_clear_error(change: object, message: str) -> None:
    frame = pd.DataFrame(
        {"series_id": "M1", "ts": pd.to_datetime(["2024-01-01T00:00Z"]), "kwh": [0.1]}
    )
    with pytest.raises(ForecastInputError, match=message):
        check_half_hourly(change(frame))  # type: ignore[operator]
