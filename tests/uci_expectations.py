"""The UCI household file's gaps and voltage episodes, worked out with pandas from the raw file.

Shared by the unit test (replay parser + validator, no servers) and the integration test
(the real replay CLI, JetStream, the streaming app, Cassandra): both compare what the
pipeline found with what is derived here, independently of the pipeline's code.

The file: one house near Paris, one row a minute, local time (Europe/Paris; the excerpt
lies wholly in winter time, UTC+1), day-first dates without zero padding. The house's
voltage (226-252 V) never leaves the EN 50160 band 207-253 V; a tight band (234-246 V)
is left hundreds of times, so episodes are really compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from streaming_app.rules.voltage import VoltageRule
from tests.shared_data import shared_file

UCI_NAME = "uci-household-power-2006-12.txt"  # in ../shared/data
ROWS = 37_283
METER_ID = "UCI-1"  # the replay parser's meter id for the single-meter file
MINUTE_MS = 60_000
SUSTAINED_MS = 60_000  # VoltageRule's default: an episode lasting a minute is sustained
EN_50160 = (207.0, 253.0)
TIGHT = (234.0, 246.0)
TIGHT_EPISODES = 750  # what the derivation below finds in the file for the tight band

GapKey = tuple[int, int, int]  # first missing minute (epoch ms), end (epoch ms), minutes missing


@dataclass(frozen=True)
class Episode:
    """A voltage episode as both sides describe it."""

    start_ms: int
    end_ms: int
    min_v: float
    max_v: float
    direction: str
    duration: str
    readings: int


def uci_file() -> Path:
    """The UCI excerpt in the shared data set (a clear failure if it is not there)."""
    return shared_file(UCI_NAME)


def voltage_rule(band: tuple[float, float]) -> VoltageRule:
    """The voltage rule (default sustained time) whose band is exactly ``band``."""
    nominal_v = (band[0] + band[1]) / 2
    rule = VoltageRule(nominal_v=nominal_v, band_pct=(band[1] - nominal_v) / nominal_v * 100)
    assert (rule.low_v, rule.high_v) == band
    return rule


def raw_frame() -> pd.DataFrame:
    """Event time (UTC epoch ms) and voltage of every row, in file order."""
    frame = pd.read_csv(uci_file(), sep=";", dtype=str, keep_default_na=False)
    local = pd.to_datetime(frame["Date"] + " " + frame["Time"], dayfirst=True)
    utc = local.dt.tz_localize("Europe/Paris", ambiguous="raise", nonexistent="raise")
    return pd.DataFrame(
        {
            "ts_ms": utc.dt.tz_convert("UTC").astype("int64") // 1_000_000,
            "voltage_v": frame["Voltage"].str.strip().astype(float),
        }
    )


def expected_gaps(frame: pd.DataFrame) -> set[GapKey]:
    """(first missing minute, end, missing minutes) wherever the minute grid jumps."""
    step = frame["ts_ms"].diff()
    jumps = frame.loc[step > MINUTE_MS]
    before = frame["ts_ms"].shift()[jumps.index]
    return {
        (int(prev) + MINUTE_MS, int(ts), (int(ts) - int(prev)) // MINUTE_MS - 1)
        for prev, ts in zip(before, jumps["ts_ms"], strict=True)
    }


def expected_episodes(frame: pd.DataFrame, band: tuple[float, float]) -> set[Episode]:
    """Runs of consecutive rows outside the band, in file (= event) order."""
    low, high = band
    volts = frame["voltage_v"]
    outside = (volts < low) | (volts > high)
    assert not outside.iloc[-1], "an episode open at the end would only be reported if sustained"
    run_id = (outside != outside.shift()).cumsum()
    episodes = set()
    for _, run in frame[outside].groupby(run_id[outside]):
        start, end = int(run["ts_ms"].iloc[0]), int(run["ts_ms"].iloc[-1])
        under, over = bool((run["voltage_v"] < low).any()), bool((run["voltage_v"] > high).any())
        episodes.add(
            Episode(
                start,
                end,
                float(run["voltage_v"].min()),
                float(run["voltage_v"].max()),
                "both" if under and over else ("under" if under else "over"),
                "sustained" if end - start >= SUSTAINED_MS else "transient",
                len(run),
            )
        )
    return episodes
