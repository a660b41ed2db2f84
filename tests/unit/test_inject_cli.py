"""The injector command line, its run loop (with a fake publisher) and its clocks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inject.cli import build_parser, main, options_from
from inject.clock import FastClock, ScaledClock
from inject.faults import FaultConfig, FaultKind, read_ground_truth
from inject.faults.ground_truth import GroundTruthWriter
from inject.fleet import FleetConfig
from inject.run import InjectOptions, run_injection
from smart_meter.publisher import PublishStats
from smart_meter.reading import Reading
from smart_meter.subjects import subject_for_meter

START = datetime(2024, 6, 1, tzinfo=UTC)


class FakePublisher:
    """Records what a run publishes; every publish counts as stored."""

    def __init__(self) -> None:
        self.stats = PublishStats()
        self.readings: list[Reading] = []
        self.raw: list[tuple[str, bytes, str | None]] = []
        self.flushed = False

    async def publish(self, readings: Iterable[Reading]) -> None:
        batch = list(readings)
        self.readings += batch
        self.stats.readings += len(batch)

    async def publish_raw(self, subject: str, payload: bytes, msg_id: str | None = None) -> None:
        self.raw.append((subject, payload, msg_id))
        self.stats.raw += 1

    async def flush(self) -> None:
        self.flushed = True


class RecordingClock:
    def __init__(self) -> None:
        self.waited: list[datetime] = []

    async def wait_until(self, sim_time: datetime) -> None:
        self.waited.append(sim_time)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--meters", "0"], "--meters: must be at least 1"),
        (["--meters", "ten"], "not a whole number"),
        (["--interval-s", "17"], "--interval-s must be 60, 900 or 1800"),
        (["--fast", "--speedup", "3"], "not allowed with argument --fast"),
        (["--speedup", "0"], "must be positive"),
        (["--replica", "2", "--replicas", "2"], "--replica 2 must be below --replicas 2"),
        (["--task-slot", "3", "--replicas", "2"], "task slot 3 must be below --replicas 2"),
        (["--task-slot", "0"], "--task-slot: must be at least 1"),
        (["--task-slot", "1", "--replica", "0"], "give --replica or a task slot, not both"),
        (["--faults", "some"], "invalid choice"),
        (["--start", "2024-01-01T00:00"], "give a time zone"),
        (["--ground-truth", "/no/such/dir/truth.jsonl"], "no such directory"),
        (["--batch-size", "-1"], "must be at least 1"),
    ],
)
def test_a_wrong_option_ends_with_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    error = capsys.readouterr().err
    assert exited.value.code == 2
    assert error.count("\n") == 1
    assert error.startswith("python -m inject: error: ")
    assert message in error


def test_unreachable_nats_ends_with_one_line_and_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--fast", "--meters", "2", "--intervals", "1", "--nats-url", "nats://127.0.0.1:1"]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "cannot reach NATS at nats://127.0.0.1:1" in error


def test_options_default_to_real_time_from_now_floored_to_the_interval() -> None:
    args = build_parser().parse_args(["--interval-s", "900", "--replica", "1", "--replicas", "3"])
    options = options_from(args, now=datetime(2024, 6, 1, 10, 7, 31, tzinfo=UTC))
    assert options.start == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    assert options.speedup == 1.0
    assert (options.fleet.replica, options.fleet.replicas) == (1, 3)
    assert isinstance(options.clock(), ScaledClock)


def test_swarm_task_slot_s_of_r_is_replica_s_minus_1(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    by_option = options_from(
        build_parser().parse_args(["--task-slot", "2", "--replicas", "2"]), now
    )
    assert (by_option.fleet.replica, by_option.fleet.replicas) == (1, 2)
    monkeypatch.setenv("SMART_METER_INJECT_TASK_SLOT", "3")
    by_env = options_from(build_parser().parse_args(["--replicas", "3"]), now)
    assert by_env.fleet.replica == 2
    explicit = options_from(build_parser().parse_args(["--replica", "0", "--replicas", "3"]), now)
    assert explicit.fleet.replica == 0
    monkeypatch.setenv("SMART_METER_INJECT_TASK_SLOT", "two")
    with pytest.raises(ValueError, match="SMART_METER_INJECT_TASK_SLOT must be a whole number"):
        options_from(build_parser().parse_args(["--replicas", "3"]), now)


def test_fast_and_start_options_give_a_clock_that_never_waits() -> None:
    args = build_parser().parse_args(["--fast", "--start", "2024-06-01T00:00:00Z"])
    options = options_from(args, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert options.start == START
    assert isinstance(options.clock(), FastClock)


def options(faults: FaultConfig, intervals: int = 12, meters: int = 20) -> InjectOptions:
    fleet = FleetConfig(meters=meters, interval_s=1800, meters_per_transformer=5, seed=4)
    return InjectOptions(fleet=fleet, faults=faults, intervals=intervals, start=START, speedup=None)


async def test_run_publishes_every_interval_at_its_simulated_time(tmp_path: Path) -> None:
    publisher, clock = FakePublisher(), RecordingClock()
    path = tmp_path / "truth.jsonl"
    with GroundTruthWriter(path) as writer:
        summary = await run_injection(options(FaultConfig.profile("all")), publisher, clock, writer)
    assert clock.waited == [START + timedelta(minutes=30 * i) for i in range(12)]
    assert publisher.flushed
    records = list(read_ground_truth(path))
    malformed = [r for r in records if r.kind.startswith("malformed_")]
    assert summary.malformed_sent == len(malformed) > 0
    assert summary.faults == {kind.value: count for kind, count in writer.counts.items()}
    assert sum(summary.faults.values()) == len(records)
    assert summary.readings_published == summary.readings_sent == len(publisher.readings)
    assert summary.duplicate_copies_sent + summary.malformed_sent == len(publisher.raw)


async def test_run_sends_raw_messages_on_their_meter_s_partition() -> None:
    publisher = FakePublisher()
    config = FaultConfig(rates={FaultKind.MALFORMED_NAN: 0.3})
    await run_injection(options(config), publisher, FastClock())
    assert publisher.raw
    for subject, payload, msg_id in publisher.raw:
        assert msg_id is not None
        meter_id = msg_id.split(":")[1].split("@")[0]
        assert subject == subject_for_meter(meter_id, 16)
        assert meter_id.encode() in payload


async def test_run_without_faults_sends_every_reading_once() -> None:
    publisher = FakePublisher()
    summary = await run_injection(options(FaultConfig.profile("none")), publisher, FastClock())
    keys = [reading.key for reading in publisher.readings]
    assert len(keys) == len(set(keys)) == 20 * 12
    assert summary.faults == {}
    assert "faults by kind:        none" in summary.lines()


async def test_scaled_clock_waits_simulated_time_divided_by_the_speedup_without_drifting() -> None:
    wall_s = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        wall_s[0] += seconds

    clock = ScaledClock(START, speedup=60.0, monotonic_s=lambda: wall_s[0], sleep=sleep)
    await clock.wait_until(START)
    await clock.wait_until(START + timedelta(minutes=30))
    wall_s[0] += 100.0  # the publisher was slow: the next interval is already due
    await clock.wait_until(START + timedelta(minutes=60))
    await clock.wait_until(START + timedelta(minutes=150))
    assert slept == [30.0, 20.0]  # catches up, then keeps the original schedule


def test_scaled_clock_refuses_a_speedup_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(START, speedup=0.0)
