"""The replay loop without servers: pacing on a fake clock, hand-over, strict stop, report."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from inject.replay import (
    CsvReader,
    FormatOptions,
    ReplayConfig,
    ReplayReport,
    StrictStopError,
    replay_file,
    resolve_format,
)
from inject.replay.cli import main
from inject.replay.pacing import EventTimePacer
from smart_meter.publisher import PublishStats
from smart_meter.reading import Reading

UCI_HEADER = (
    "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
    "Sub_metering_1;Sub_metering_2;Sub_metering_3"
)


class FakeClock:
    """A clock that only moves when the replay sleeps, and remembers every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps_s: list[float] = []

    def now_s(self) -> float:
        return self.now

    async def sleep_s(self, seconds: float) -> None:
        self.sleeps_s.append(seconds)
        self.now += seconds


class FakeSink:
    """Records what would be published; every reading is stored, none duplicate."""

    def __init__(self, batch_size: int = 2, partitions: int = 2) -> None:
        self.stats = PublishStats()
        self.batch_size, self.partitions = batch_size, partitions
        self.handed_over: list[list[Reading]] = []
        self.flushes = 0

    async def publish(self, readings: Iterable[Reading]) -> None:
        batch = list(readings)
        self.handed_over.append(batch)
        self.stats.readings += len(batch)

    async def flush(self) -> None:
        self.flushes += 1

    @property
    def readings(self) -> list[Reading]:
        return [r for batch in self.handed_over for r in batch]


def uci_file(tmp_path: Path, minutes: list[int], missing: tuple[int, ...] = ()) -> Path:
    rows = [
        f"1/1/2007;00:{m:02d}:00;{'?' if m in missing else '0.6'};0;230;2.6;0;0;0" for m in minutes
    ]
    path = tmp_path / "house.txt"
    path.write_text("\n".join([UCI_HEADER, *rows]) + "\n")
    return path


async def run(
    path: Path, sink: FakeSink, config: ReplayConfig, clock: FakeClock | None = None
) -> ReplayReport:
    reader = CsvReader(path, resolve_format(path), FormatOptions())
    return await replay_file(reader, sink, config, clock=clock or FakeClock())


async def test_fast_replay_sends_every_reading_in_file_order_without_sleeping(
    tmp_path: Path,
) -> None:
    sink, clock = FakeSink(batch_size=2, partitions=2), FakeClock()
    report = await run(uci_file(tmp_path, list(range(10))), sink, ReplayConfig(speedup=None), clock)
    assert [r.ts.minute for r in sink.readings] == list(range(10))
    assert [len(batch) for batch in sink.handed_over] == [4, 4, 2]  # batch_size × partitions
    assert clock.sleeps_s == [] and sink.flushes == 1
    assert (report.rows_read, report.readings_sent, report.readings_stored) == (10, 10, 10)


async def test_pacing_waits_event_time_divided_by_speedup(tmp_path: Path) -> None:
    sink, clock = FakeSink(batch_size=100), FakeClock()
    await run(uci_file(tmp_path, [0, 1, 2, 5]), sink, ReplayConfig(speedup=60.0), clock)
    assert clock.sleeps_s == pytest.approx([1.0, 1.0, 3.0])
    assert [len(batch) for batch in sink.handed_over] == [1, 1, 1, 1]  # none held past due


def test_a_reading_behind_the_clock_waits_nothing() -> None:
    clock = FakeClock()
    pacer = EventTimePacer(speedup=2.0, clock=clock)
    assert pacer.delay_s(10_000) == 0.0  # the first reading anchors event time
    assert pacer.delay_s(14_000) == pytest.approx(2.0)
    clock.now += 5.0
    assert pacer.delay_s(12_000) == 0.0  # out of order, or the sender fell behind
    assert EventTimePacer(None, clock).delay_s(99_000_000) == 0.0


def test_speedup_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speedup"):
        EventTimePacer(0.0, FakeClock())


async def test_bad_rows_are_reported_by_reason_with_their_first_lines(tmp_path: Path) -> None:
    path = uci_file(tmp_path, list(range(12)), missing=(1, 3, 5, 7, 9, 11))
    report = await run(path, FakeSink(), ReplayConfig(speedup=None))
    assert (report.rows_read, report.readings_sent, report.bad_rows) == (12, 6, 6)
    tally = report.bad["missing_value"]
    assert (tally.count, tally.first_lines) == (6, [3, 5, 7, 9, 11])
    assert "bad missing_value: 6 (first lines 3, 5, 7, 9, 11" in "\n".join(report.lines())


async def test_strict_stops_at_the_first_bad_row_after_sending_the_rows_before(
    tmp_path: Path,
) -> None:
    path, sink = uci_file(tmp_path, list(range(6)), missing=(3, 4)), FakeSink()
    with pytest.raises(StrictStopError) as stopped:
        await run(path, sink, ReplayConfig(speedup=None, strict=True))
    assert str(stopped.value) == f"{path}:5: missing_value: global_active_power is '?'"
    assert [r.ts.minute for r in sink.readings] == [0, 1, 2] and sink.flushes == 1
    assert stopped.value.report is not None and stopped.value.report.rows_read == 4


def test_cli_refuses_an_unknown_time_zone(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["some.csv", "--timezone", "Mars/Olympus"])
    assert exited.value.code == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err


def test_cli_refuses_a_file_in_no_known_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n")
    assert main([str(path), "--fast", "--nats-url", "nats://127.0.0.1:1"]) == 2
    assert "notes.csv:1: no known format" in capsys.readouterr().err
