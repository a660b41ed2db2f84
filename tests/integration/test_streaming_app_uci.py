"""The UCI household file replayed through the real pipeline: exactly the gaps and voltage
episodes the file contains, worked out independently with pandas (``tests.uci_expectations``).

The real replay CLI (``python -m inject.replay --format uci --fast``) publishes the file
once to a stream of this module's own. Two deployments of the app (``python -m
streaming_app run``, demo preset: the file's 60-s cadence) read that stream, each into its
own keyspace, at the same time: one with the EN 50160 band (207-253 V, which the house
never leaves), one with a tight band (234-246 V) set through ``SMART_METER_VALIDATION_*``
environment variables, which the house leaves 750 times. Each must store every reading,
the file's two gaps in their final form, and exactly its voltage episodes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pandas as pd
import pytest

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from tests.integration.streaming_app_readback import GAP_COLUMNS, drop_keyspace, rows
from tests.integration.streaming_app_support import (
    PARTITIONS,
    ROOT,
    Names,
    delete_deployment,
    remaining,
    wait_for_drain,
)
from tests.uci_expectations import (
    EN_50160,
    METER_ID,
    ROWS,
    TIGHT,
    TIGHT_EPISODES,
    Episode,
    GapKey,
    expected_episodes,
    expected_gaps,
    raw_frame,
    uci_file,
    voltage_rule,
)

pytestmark = pytest.mark.integration

BANDS = {"en50160": EN_50160, "tight": TIGHT}
EPISODE_COLUMNS = "meter_id, start_ts, end_ts, min_v, max_v, direction, duration, readings, ongoing"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
REPLAY_LIMIT_S = 900.0  # a hung replay fails the test; a slow one (a loaded machine) does not
STALL_S = 120.0  # no message acked for this long: the app stopped (slow is fine)


def ms(ts: datetime) -> int:
    """Epoch milliseconds of a timestamp read back from Cassandra (naive, UTC)."""
    return (ts.replace(tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class Replayed:
    """The stream the file was replayed into, and what the replay CLI printed."""

    names: Names
    report: str


@dataclass(frozen=True)
class Stored:
    """What one deployment stored: reading keys, gap rows and voltage episode rows."""

    readings: list[tuple[str, int]]
    gaps: list[tuple[Any, ...]]
    episodes: list[tuple[Any, ...]]
    log: str


def replay_env(connections: ConnectionSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_METER_")}
    env["SMART_METER_NATS_URL"] = connections.nats_url
    env["SMART_METER_PARTITIONS"] = str(PARTITIONS)
    return env


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return raw_frame()


@pytest.fixture(scope="module")
def replayed(connections: ConnectionSettings) -> Iterator[Replayed]:
    """The file through the replay CLI into a stream of its own (deleted afterwards)."""
    names = Names()
    command = [
        sys.executable, "-m", "inject.replay", str(uci_file()), "--format", "uci", "--fast",
        "--stream", names.stream, "--subject-prefix", names.prefix, "--no-progress",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=replay_env(connections),
            capture_output=True,
            text=True,
            timeout=REPLAY_LIMIT_S,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        yield Replayed(names, done.stdout)
    finally:

        async def teardown() -> None:
            nc = await nats.connect(connections.nats_url)
            try:
                await nc.jetstream().delete_stream(names.stream)
            finally:
                await nc.close()

        asyncio.run(teardown())


async def deploy(
    connections: ConnectionSettings, names: Names, band_id: str, log_dir: Path
) -> Stored:
    """One deployment of the app over the replayed stream, with ``band_id``'s voltage band;
    run until every message is acked, stopped, read back and removed."""
    app = names.app(band_id)
    rule = voltage_rule(BANDS[band_id])
    env = app.env(connections)
    env["SMART_METER_VALIDATION_VOLTAGE__NOMINAL_V"] = repr(rule.nominal_v)
    env["SMART_METER_VALIDATION_VOLTAGE__BAND_PCT"] = repr(rule.band_pct)
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    process = AppProcess(env, log_dir / f"{band_id}.log")
    try:

        async def left() -> int:
            assert process.alive(), process.log_text()[-3000:]
            return await remaining(js, app)

        await wait_for_drain(left, STALL_S, f"every message acked ({band_id})")
        assert process.terminate() == 0, process.log_text()[-3000:]

        def read_back() -> Stored:
            keyspace = app.keyspace
            readings = rows(connections, keyspace, "readings_by_meter_day", "meter_id, ts")
            return Stored(
                readings=[(meter, ms(ts)) for meter, ts in readings],
                gaps=rows(connections, keyspace, "gaps_by_meter", GAP_COLUMNS),
                episodes=rows(connections, keyspace, "voltage_events_by_meter", EPISODE_COLUMNS),
                log=process.log_text(),
            )

        return await asyncio.to_thread(read_back)
    finally:
        if process.alive():
            process.kill()
        await delete_deployment(js, app)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)


@pytest.fixture(scope="module")
def stored(
    connections: ConnectionSettings,
    replayed: Replayed,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Stored]:
    """Both deployments, run at the same time over the same replayed stream."""
    log_dir = tmp_path_factory.mktemp("uci")

    async def run() -> list[Stored]:
        runs = (deploy(connections, replayed.names, band_id, log_dir) for band_id in BANDS)
        return list(await asyncio.gather(*runs))

    return dict(zip(BANDS, asyncio.run(run()), strict=True))


def test_the_replay_cli_sends_every_row_of_the_file_as_a_reading(replayed: Replayed) -> None:
    assert replayed.report.splitlines()[0].endswith(
        f"(uci): {ROWS} rows read, {ROWS} readings sent to 1 meters, "
        f"{ROWS} stored, 0 duplicates, 0 bad rows"
    ), replayed.report


@pytest.mark.parametrize("band_id", BANDS)
def test_every_reading_is_stored_once_at_its_time(
    band_id: str, stored: dict[str, Stored], frame: pd.DataFrame
) -> None:
    found = stored[band_id]
    assert len(found.readings) == ROWS
    assert set(found.readings) == {(METER_ID, int(ts)) for ts in frame["ts_ms"]}
    assert "Traceback" not in found.log


@pytest.mark.parametrize("band_id", BANDS)
def test_the_stored_gaps_are_exactly_the_files_in_their_final_form(
    band_id: str, stored: dict[str, Stored], frame: pd.DataFrame
) -> None:
    gaps = stored[band_id].gaps
    found: set[GapKey] = {(ms(start), ms(end), missing) for _, start, end, missing, _, _ in gaps}
    assert found == expected_gaps(frame)
    assert len(found) == len(gaps) == 2
    assert {(meter, is_open, filled_at) for meter, _, _, _, is_open, filled_at in gaps} == {
        (METER_ID, False, None)
    }


@pytest.mark.parametrize("band_id", BANDS)
def test_the_stored_voltage_episodes_are_exactly_the_files(
    band_id: str, stored: dict[str, Stored], frame: pd.DataFrame
) -> None:
    episodes = stored[band_id].episodes
    found = {
        Episode(ms(start), ms(end), min_v, max_v, direction, duration, readings)
        for _, start, end, min_v, max_v, direction, duration, readings, _ in episodes
    }
    expected = expected_episodes(frame, BANDS[band_id])
    assert found == expected
    assert len(found) == len(episodes)
    assert {(meter, ongoing) for meter, *_, ongoing in episodes} <= {(METER_ID, False)}
    assert len(expected) == (TIGHT_EPISODES if band_id == "tight" else 0)
