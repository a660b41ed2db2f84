"""CSV replay through the real NATS JetStream: every row of the shared files read back.

The READINGS stream is shared with other tests, so it is never purged: each test
publishes under meter ids unique to its run and reads back, from the stream position
it noted before replaying, only the messages of those meters.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from inject.replay import CsvReader, FormatOptions, ReplayConfig, replay_file, resolve_format
from smart_meter.codec import decode_message
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_STREAM, subject_for_meter
from tests.shared_data import shared_file
from tests.uci_expectations import uci_file

pytestmark = pytest.mark.integration

PS2024_NAMES = ("test1.csv", "test-q1.csv", "test-q3.csv")  # in ../shared/data/ps2024-tp1
REPO = Path(__file__).resolve().parents[2]
CET = timedelta(hours=1)  # Paris in December/January


def run_prefix() -> str:
    return f"rp{uuid.uuid4().hex[:8]}-"


async def last_seq(js: JetStreamContext) -> int:
    return (await js.stream_info(READINGS_STREAM)).state.last_seq


async def read_back(
    js: JetStreamContext, after_seq: int, meter_ids: set[str], partitions: int
) -> dict[str, list[Reading]]:
    """Readings of ``meter_ids`` stored after ``after_seq``, per meter in stream order."""
    until_seq = await last_seq(js)
    subjects = sorted({subject_for_meter(m, partitions) for m in meter_ids})
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_seq + 1,
        filter_subjects=subjects,
    )
    sub = await js.subscribe(
        subjects[0], stream=READINGS_STREAM, ordered_consumer=True, config=config
    )
    found: dict[str, list[Reading]] = defaultdict(list)
    try:
        while True:
            msg = await sub.next_msg(timeout=10)
            for reading in decode_message(msg.data).readings:
                if reading.meter_id in meter_ids:
                    found[reading.meter_id].append(reading)
            meta = msg.metadata
            if meta.sequence.stream >= until_seq or meta.num_pending == 0:
                return found
    finally:
        await sub.unsubscribe()


def ps2024_file(name: str) -> Path:
    return shared_file("ps2024-tp1", name)


def uci_rows_read_independently(path: Path) -> list[tuple[datetime, float, float]]:
    """(UTC time, voltage, current) of every data line, parsed without the replay code."""
    rows = []
    for line in path.read_text().splitlines()[1:]:
        fields = [f.strip() for f in line.split(";")]
        local = datetime.strptime(f"{fields[0]} {fields[1]}", "%d/%m/%Y %H:%M:%S")
        rows.append(((local - CET).replace(tzinfo=UTC), float(fields[4]), float(fields[5])))
    return rows


def ps2024_rows_read_independently(path: Path) -> dict[str, list[tuple[datetime, float]]]:
    """Per sensor, (UTC time, register Wh) of every line, parsed without the replay code."""
    rows: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        stamp, sensor, energy = line.strip().split(";")
        ts = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)  # Lisbon = UTC
        rows[sensor].append((ts, float(energy)))
    return rows


async def test_uci_and_ps2024_files_are_read_back_row_for_row(
    connections: ConnectionSettings,
) -> None:
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    prefix = run_prefix()
    uci_path, ps2024_paths = uci_file(), [ps2024_file(name) for name in PS2024_NAMES]
    try:
        await ensure_readings_streams(js)
        start_seq = await last_seq(js)
        publisher = ReadingPublisher(nc, connections.partitions, batch_size=200)
        reports = {}
        for path in [uci_path, *ps2024_paths]:
            options = FormatOptions(meter_prefix=f"{prefix}{path.stem}-")
            reader = CsvReader(path, resolve_format(path), options)
            reports[path] = await replay_file(reader, publisher, ReplayConfig(speedup=None))
        meter_ids = set().union(*(report.meter_ids for report in reports.values()))
        found = await read_back(js, start_seq, meter_ids, connections.partitions)
    finally:
        await nc.close()

    uci_expected = uci_rows_read_independently(uci_path)
    uci_report = reports[uci_path]
    assert (uci_report.rows_read, uci_report.bad_rows) == (len(uci_expected), 0) == (37_283, 0)
    assert (uci_report.readings_stored, uci_report.duplicates) == (37_283, 0)
    uci_found = found[f"{prefix}{uci_path.stem}-UCI-1"]
    assert [(r.ts, r.voltage_v, r.current_a) for r in uci_found] == [
        (ts, (voltage,), (current,)) for ts, voltage, current in uci_expected
    ]
    assert uci_found[-1].import_wh == pytest.approx(1_063_843.533, abs=0.01)

    for path in ps2024_paths:
        expected = ps2024_rows_read_independently(path)
        report = reports[path]
        rows = sum(len(v) for v in expected.values())
        assert (report.rows_read, report.readings_stored, report.bad_rows) == (rows, rows, 0)
        for sensor, sensor_rows in expected.items():
            got = found[f"{prefix}{path.stem}-{sensor}"]
            assert [(r.ts, r.import_wh) for r in got] == sensor_rows, (path.name, sensor)
    assert sum(len(v) for v in found.values()) == 37_283 + 293 + 5 + 145


async def run_cli(*args: str, nats_url: str) -> subprocess.CompletedProcess[str]:
    """``python -m inject.replay ...`` in a thread, so this test's NATS client stays live."""
    command = [sys.executable, "-m", "inject.replay", *args, "--nats-url", nats_url]
    return await asyncio.to_thread(
        subprocess.run, command, check=False, cwd=REPO, capture_output=True, text=True, timeout=300
    )


async def test_cli_replays_a_file_and_prints_the_report(connections: ConnectionSettings) -> None:
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    prefix, path = run_prefix(), ps2024_file("test-q1.csv")
    try:
        await ensure_readings_streams(js)
        start_seq = await last_seq(js)
        done = await run_cli(
            str(path), "--fast", "--no-progress", "--meter-prefix", prefix,
            nats_url=connections.nats_url,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        found = await read_back(js, start_seq, {f"{prefix}A"}, connections.partitions)
    finally:
        await nc.close()
    assert "(ps2024): 5 rows read, 5 readings sent to 1 meters, 5 stored" in done.stdout
    assert [r.import_wh for r in found[f"{prefix}A"]] == [0, 1000, 2000, 3000, 6000]


async def test_cli_strict_stops_with_one_line_naming_file_line_and_reason(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("2024-02-01 00:00:00;A;0\n2024-02-01 00:30:00;A;10\n2024-02-01 01:00:00;A;x\n")
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    prefix = run_prefix()
    try:
        await ensure_readings_streams(js)
        start_seq = await last_seq(js)
        done = await run_cli(
            str(path), "--fast", "--strict", "--no-progress", "--meter-prefix", prefix,
            nats_url=connections.nats_url,
        )  # fmt: skip
        found = await read_back(js, start_seq, {f"{prefix}A"}, connections.partitions)
    finally:
        await nc.close()
    assert done.returncode == 1
    assert done.stderr.strip() == f"{path}:3: bad_number: energy is 'x'"
    assert [r.import_wh for r in found[f"{prefix}A"]] == [0, 10]
