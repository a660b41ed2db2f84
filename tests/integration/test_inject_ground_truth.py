"""The injector CLI against the real JetStream: the ground truth matches what was stored.

The READINGS stream is shared with other tests, so each test reads only what arrived
after the stream's last sequence at its start, and keeps only its own readings: event
times in a window of a far-off year no other test uses.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from inject.faults import FaultConfig, FaultKind, iso_utc, read_ground_truth
from smart_meter.codec import ReadingError, decode_message
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM
from tests.fault_checks import problems

pytestmark = pytest.mark.integration

INTERVAL_S = 1800
REPO = Path(__file__).resolve().parents[2]


def unique_start() -> datetime:
    """A half-hour somewhere in 2040..2090: no other test publishes readings there."""
    return datetime(2040, 1, 1, tzinfo=UTC) + timedelta(seconds=INTERVAL_S) * secrets.randbelow(
        800_000
    )


def run_injector(connections: ConnectionSettings, *args: str) -> dict[str, int]:
    """``python -m inject --fast ...``; returns the summary's numbers by line label."""
    argv = [sys.executable, "-m", "inject", "--fast", "--nats-url", connections.nats_url, *args]
    env = {**os.environ, "SMART_METER_PARTITIONS": str(connections.partitions)}
    done = subprocess.run(
        argv, check=False, capture_output=True, text=True, timeout=300, cwd=REPO, env=env
    )
    assert done.returncode == 0, done.stderr
    numbers = {}
    for line in done.stdout.splitlines():
        label, _, rest = line.partition(":")
        found = re.match(r"\s*(\d+)", rest)
        if found:
            numbers[label.strip()] = int(found.group(1))
    return numbers


async def last_sequence(js: JetStreamContext) -> int:
    return int((await js.stream_info(READINGS_STREAM)).state.last_seq)


async def stored_since(js: JetStreamContext, first_seq: int, last_seq: int) -> list[bytes]:
    """Payloads of the readings stream from ``first_seq`` to ``last_seq``, in stream order."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=first_seq,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,
    )
    sub = await js.pull_subscribe(f"{READINGS_PREFIX}.*", stream=READINGS_STREAM, config=config)
    payloads: list[bytes] = []
    seq = first_seq - 1
    try:
        while seq < last_seq:
            for msg in await sub.fetch(1000, timeout=10):
                seq = msg.metadata.sequence.stream
                if seq <= last_seq:
                    payloads.append(msg.data)
    finally:
        await sub.unsubscribe()
    return payloads


def within(payload: bytes, low: datetime, high: datetime) -> bool:
    """Whether a decodable message holds readings in ``[low, high]`` (all or none are)."""
    try:
        readings = decode_message(payload).readings
    except ReadingError:
        return False
    return all(low <= reading.ts <= high for reading in readings) and bool(readings)


async def test_ground_truth_of_every_fault_kind_matches_what_jetstream_stored(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    await ensure_readings_streams(js)
    first_seq = await last_sequence(js) + 1
    start, intervals, truth = unique_start(), 96, tmp_path / "truth.jsonl"
    summary = await asyncio.to_thread(
        run_injector,
        connections,
        *("--meters", "60", "--meters-per-transformer", "6", "--interval-s", str(INTERVAL_S)),
        *("--intervals", str(intervals), "--seed", "1234", "--faults", "all"),
        *("--batch-size", "10", "--start", iso_utc(start), "--ground-truth", str(truth)),
    )
    payloads = await stored_since(js, first_seq, await last_sequence(js))
    await nc.close()

    records = list(read_ground_truth(truth))
    malformed = {r.details["payload"].encode() for r in records if "payload" in r.details}
    margin = timedelta(seconds=INTERVAL_S)
    end = start + intervals * margin
    ours = [p for p in payloads if p in malformed or within(p, start - margin, end)]
    assert {record.kind for record in records} == set(FaultKind)
    modulus_wh = FaultConfig().register_modulus_wh
    assert problems(records, ours, INTERVAL_S, modulus_wh) == []
    readings = [r for p in ours if p not in malformed for r in decode_message(p).readings]
    assert len(readings) == summary["readings published"] + summary["duplicate copies sent"]
    assert len(ours) - len([p for p in ours if p not in malformed]) == summary["malformed sent"]
    assert summary["malformed sent"] == sum(r.kind.startswith("malformed_") for r in records)
    assert summary["duplicates refused"] == 0


async def test_two_replicas_publish_disjoint_slices_that_cover_the_fleet(
    connections: ConnectionSettings,
) -> None:
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    await ensure_readings_streams(js)
    first_seq = await last_sequence(js) + 1
    start, intervals, meters = unique_start(), 6, 25
    common = ("--meters", str(meters), "--intervals", str(intervals), "--faults", "none")
    runs = [
        asyncio.to_thread(
            run_injector,
            connections,
            *common,
            "--start",
            iso_utc(start),
            "--replica",
            str(i),
            "--replicas",
            "2",
        )
        for i in range(2)
    ]
    summaries = await asyncio.gather(*runs)
    payloads = await stored_since(js, first_seq, await last_sequence(js))
    await nc.close()

    end = start + intervals * timedelta(seconds=INTERVAL_S)
    keys = [r.key for p in payloads if within(p, start, end) for r in decode_message(p).readings]
    assert len(keys) == len(set(keys)) == meters * intervals
    assert [s["readings published"] for s in summaries] == [13 * intervals, 12 * intervals]


async def test_the_same_run_again_is_refused_whole_by_jetstream_dedup(
    connections: ConnectionSettings,
) -> None:
    args = [*("--meters", "12", "--intervals", "8", "--faults", "all", "--batch-size", "5")]
    args += ["--start", iso_utc(unique_start()), "--seed", "77"]
    first = await asyncio.to_thread(run_injector, connections, *args)
    again = await asyncio.to_thread(run_injector, connections, *args)
    sent = first["readings published"] + first["duplicate copies sent"] + first["malformed sent"]
    assert first["duplicates refused"] == 0
    assert again["readings published"] == 0
    assert again["duplicates refused"] == sent
