"""One meter with a clock in 2099 among 200 good ones, through the real pipeline.

The file is made here: a generic CSV (``meter_id,timestamp,consumption_kwh``) of 200
meters times 48 half-hours on 2024-01-01, plus ``EVIL01``, which after its 10th interval
sends one reading dated 2099-01-01T00:00Z, on its 30-minute grid. The real replay CLI
publishes it to a stream of this module's own, and the app (prod preset) drains it.

What must hold, whatever the order of arrival: every reading of every other meter is
stored ON_TIME (the bad clock reclassifies nobody, EVIL01 included); the 2099 reading is
rejected to the late path as ``FUTURE`` with reason ``future_timestamp``; and the bad
reading causes a bounded number of rows: one day of totals per meter, no gap of 75 years.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from tests.integration.streaming_app_readback import drop_keyspace, rows
from tests.integration.streaming_app_support import (
    PARTITIONS,
    ROOT,
    Names,
    delete_deployment,
    remaining,
    wait_for,
)

pytestmark = pytest.mark.integration

METERS, HALF_HOURS = 200, 48
DAY = datetime(2024, 1, 1, tzinfo=UTC)
FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
TIMEOUT_S = 300.0


def write_file(path: Path) -> None:
    """The fleet in time order; EVIL01's reading from 2099 right after its 10th."""
    lines = ["meter_id,timestamp,consumption_kwh"]
    meters = [f"GOOD{i:03d}" for i in range(METERS)] + ["EVIL01"]
    for step in range(HALF_HOURS):
        when = (DAY + timedelta(minutes=30 * step)).isoformat()
        lines += [
            f"{meter},{when},{0.1 + (index % 7) / 100:.3f}" for index, meter in enumerate(meters)
        ]
        if step == 9:
            lines.append(f"EVIL01,{FUTURE.isoformat()},0.120")
    path.write_text("\n".join(lines) + "\n")


def replay(path: Path, names: Names, connections: ConnectionSettings) -> None:
    env = {"SMART_METER_NATS_URL": connections.nats_url, "SMART_METER_PARTITIONS": str(PARTITIONS)}
    command = [
        sys.executable, "-m", "inject.replay", str(path), "--format", "generic", "--fast",
        "--stream", names.stream, "--subject-prefix", names.prefix, "--no-progress",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env={**_plain_env(), **env}, capture_output=True, text=True,
        timeout=TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SMART_METER_")}


async def drain(connections: ConnectionSettings, names: Names, log: Path) -> str:
    """Run the app (prod preset) until every message is acked; return its keyspace."""
    app = names.app("clock")
    process = AppProcess(app.env(connections, PRESET="prod"), log)
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    try:

        async def all_acked() -> bool:
            assert process.alive(), process.log_text()[-3000:]
            return await remaining(js, app) == 0

        await wait_for(all_acked, TIMEOUT_S, "every message acked")
        assert process.terminate() == 0, process.log_text()[-3000:]
        assert "Traceback" not in process.log_text()
    finally:
        if process.alive():
            process.kill()
        await delete_deployment(js, app)
        await js.delete_stream(names.stream)
        await nc.close()
    return app.keyspace


@pytest.fixture(scope="module")
def keyspace(
    connections: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("bad_clock")
    names = Names()
    write_file(folder / "fleet.csv")
    replay(folder / "fleet.csv", names, connections)
    found = asyncio.run(drain(connections, names, folder / "app.log"))
    yield found
    drop_keyspace(connections, found)


def test_every_reading_of_every_meter_is_stored_on_time(
    connections: ConnectionSettings, keyspace: str
) -> None:
    stored = rows(connections, keyspace, "readings_by_meter_day", "meter_id, ts, lateness")
    per_meter = Counter(meter for meter, _, _ in stored)
    assert len(per_meter) == METERS + 1
    assert set(per_meter.values()) == {HALF_HOURS}
    assert {lateness for _, _, lateness in stored} == {"ON_TIME"}
    assert max(ts for _, ts, _ in stored) < FUTURE.replace(tzinfo=None)


def test_the_reading_from_2099_is_rejected_to_the_late_path_as_future(
    connections: ConnectionSettings, keyspace: str
) -> None:
    late = rows(connections, keyspace, "late_events_by_day", "meter_id, ts, lateness, reading")
    assert [(meter, ts, lateness) for meter, ts, lateness, _ in late] == [
        ("EVIL01", FUTURE.replace(tzinfo=None), "FUTURE")
    ]
    assert '"meter_id":"EVIL01"' in late[0][3]


def test_the_bad_reading_adds_no_rows_beyond_its_own(
    connections: ConnectionSettings, keyspace: str
) -> None:
    totals = rows(connections, keyspace, "meter_totals_by_day", "meter_id, day")
    assert len(totals) == METERS + 1
    assert {str(day) for _, day in totals} == {"2024-01-01"}
    gaps = rows(connections, keyspace, "gaps_by_meter", "meter_id, missing_intervals")
    assert [(meter, missing) for meter, missing in gaps if missing > 1] == []
