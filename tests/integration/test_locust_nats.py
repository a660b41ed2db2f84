"""`locust --headless` with the NATS user: Locust's readings count is what JetStream stored.

The READINGS stream is shared with other tests, so nothing is purged: the stream's last
sequence is noted before the run, and afterwards a consumer reads from the next one
up to the new end, keeping only readings whose meter ids carry this run's prefix.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from smart_meter.codec import decode_message
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM
from tests.conftest import free_port

pytestmark = pytest.mark.integration

LOCUSTFILE = Path(__file__).resolve().parents[2] / "inject" / "locustfile.py"
RUN_LIMIT = "300s"  # safety net only: --intervals ends each run once every user is done
PROCESS_TIMEOUT_S = 600


@dataclass
class Stored:
    """This run's readings as JetStream holds them."""

    messages: int = 0
    readings: int = 0
    keys: Counter[tuple[str, str]] = field(default_factory=Counter)
    last_ts: dict[str, str] = field(default_factory=dict)
    out_of_order: int = 0

    def add(self, meter_id: str, ts: str) -> None:
        self.readings += 1
        self.keys[meter_id, ts] += 1
        if meter_id in self.last_ts and ts <= self.last_ts[meter_id]:
            self.out_of_order += 1
        self.last_ts[meter_id] = ts

    @property
    def workers(self) -> set[str]:
        """The ``W…`` part of each meter id: which Locust workers sent readings."""
        return {meter.split("-")[1] for meter in self.last_ts}


async def last_seq(url: str) -> int:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await ensure_readings_streams(js)
        return int((await js.stream_info(READINGS_STREAM)).state.last_seq)
    finally:
        await nc.close()


async def stored_since(url: str, after_seq: int, prefix: str) -> Stored:
    """Readings of meters ``prefix…`` in the stream after ``after_seq``, up to its end now."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    stored = Stored()
    end_seq = int((await js.stream_info(READINGS_STREAM)).state.last_seq)
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_seq + 1,
        ack_policy=AckPolicy.NONE,
        filter_subject=f"{READINGS_PREFIX}.*",
        inactive_threshold=60.0,
    )
    consumer = await js.add_consumer(READINGS_STREAM, config)
    try:
        sub = await js.pull_subscribe_bind(consumer=consumer.name, stream=READINGS_STREAM)
        seq = after_seq
        while seq < end_seq:
            for msg in await sub.fetch(batch=min(1000, end_seq - seq), timeout=10):
                seq = msg.metadata.sequence.stream
                if prefix.encode() in msg.data:
                    _count_ours(stored, msg.data, prefix)
    finally:
        await js.delete_consumer(READINGS_STREAM, consumer.name)
        await nc.close()
    return stored


def _count_ours(stored: Stored, data: bytes, prefix: str) -> None:
    ours = [r for r in decode_message(data).readings if r.meter_id.startswith(prefix)]
    stored.messages += bool(ours)
    for reading in ours:
        stored.add(reading.meter_id, reading.ts.isoformat())


def locust_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def load_options(
    url: str, prefix: str, users: int, intervals: int, meters: int, run_time: str = RUN_LIMIT
) -> list[str]:
    return [
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        run_time,
        "--host",
        url,
        "--meter-prefix",
        prefix,
        "--intervals",
        str(intervals),
        "--meters-per-user",
        str(meters),
        "--batch-size",
        "50",
        "--only-summary",
    ]


def locust_rows(json_stem: Path) -> dict[str, dict[str, float]]:
    """Locust's final stats (``--json-file``), by row name."""
    rows = json.loads(json_stem.with_suffix(".json").read_text())
    return {row["name"]: row for row in rows}


@contextmanager
def started(command: list[str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process we started, stopped by its own id if the test leaves it running."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def check_stored_equals_reported(stored: Stored, rows: dict[str, dict[str, float]]) -> None:
    readings, batches = rows["readings"], rows["publish batch"]
    assert readings["num_failures"] == 0
    assert batches["num_failures"] == 0
    assert "readings already stored" not in rows
    assert stored.readings == readings["num_requests"]
    assert stored.messages == batches["num_requests"]
    assert max(stored.keys.values()) == 1, "a (meter, timestamp) stored twice"
    assert stored.out_of_order == 0


def test_locust_headless_reports_exactly_the_readings_stored_in_jetstream(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    url, prefix = connections.nats_url, f"T{secrets.token_hex(4)}"
    users, intervals, meters = 3, 4, 120
    before = asyncio.run(last_seq(url))
    command = locust_command(
        *load_options(url, prefix, users, intervals, meters), "--json-file", str(tmp_path / "s")
    )
    run = subprocess.run(
        command, check=False, cwd=tmp_path, capture_output=True, timeout=PROCESS_TIMEOUT_S
    )
    assert run.returncode == 0, run.stderr[-3000:].decode(errors="replace")
    rows = locust_rows(tmp_path / "s")
    stored = asyncio.run(stored_since(url, before, prefix))
    check_stored_equals_reported(stored, rows)
    assert stored.readings == users * intervals * meters
    assert len(stored.last_ts) == users * meters


def test_locust_stopped_by_run_time_mid_publish_reports_every_stored_reading(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    # No --intervals: users publish flat out until --run-time stops them, most of them with
    # publishes in flight; those are still acknowledged, stored and reported.
    url, prefix = connections.nats_url, f"T{secrets.token_hex(4)}"
    before = asyncio.run(last_seq(url))
    options = load_options(url, prefix, users=4, intervals=0, meters=800, run_time="2s")
    command = locust_command(*options, "--json-file", str(tmp_path / "s"))
    run = subprocess.run(
        command, check=False, cwd=tmp_path, capture_output=True, timeout=PROCESS_TIMEOUT_S
    )
    assert run.returncode == 0, run.stderr[-3000:].decode(errors="replace")
    stored = asyncio.run(stored_since(url, before, prefix))
    check_stored_equals_reported(stored, locust_rows(tmp_path / "s"))
    assert stored.readings > 0


def test_locust_master_and_two_workers_send_distinct_meters_all_stored(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    url, prefix, port = connections.nats_url, f"T{secrets.token_hex(4)}", str(free_port())
    users, intervals, meters = 4, 3, 100
    before = asyncio.run(last_seq(url))
    master_args = ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port]
    master_args += ["--expect-workers", "2", "--json-file", str(tmp_path / "m")]
    worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", port]
    with (
        started(
            locust_command(*master_args, *load_options(url, prefix, users, intervals, meters)),
            tmp_path / "master.log",
            tmp_path,
        ) as master,
        started(locust_command(*worker_args), tmp_path / "w0.log", tmp_path) as first,
        started(locust_command(*worker_args), tmp_path / "w1.log", tmp_path) as second,
    ):
        codes = [p.wait(timeout=PROCESS_TIMEOUT_S) for p in (master, first, second)]
    assert codes == [0, 0, 0], (tmp_path / "master.log").read_text()[-3000:]
    stored = asyncio.run(stored_since(url, before, prefix))
    check_stored_equals_reported(stored, locust_rows(tmp_path / "m"))
    assert stored.readings == users * intervals * meters
    assert stored.workers == {"W000", "W001"}
