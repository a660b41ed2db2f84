"""The console without servers: names and counts, injector plans and slices, records,
the shell's exit statuses, the status table, and the swarm backend's specs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

import start_services
from console.backend import ServiceRow, render, with_rates
from console.catalogue import (
    INTERVAL_S,
    LOOKBACK_S,
    SERVICES,
    InjectPlan,
    replica_args,
    replica_count,
    service_kind,
    slot_environment,
)
from console.errors import ConsoleError
from console.local import LocalBackend
from console.rates import Rates, window_start_s
from console.records import ReplicaRecord, ServiceFolder, Wanted
from console.settings import ConsoleSettings
from console.shell import run_shell
from console.swarm_specs import nats_config, passed_environment, pinned_image
from inject.fleet import Fleet, FleetConfig
from tests.conftest import free_port

NOW_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("service", "count", "message"),
    [
        ("injector", 1, "unknown service 'injector'; choose from inject, streaming-app"),
        ("inject", -1, "replicas must not be negative, got -1"),
        ("inject", "two", "replicas must be a whole number, got 'two'"),
        ("kafka-bridge", 2, "kafka-bridge runs at most 1 replica, got 2"),
    ],
)
def test_a_wrong_service_or_count_is_one_clear_error(
    service: str, count: object, message: str
) -> None:
    with pytest.raises(ConsoleError, match=message):
        replica_count(service_kind(service), count)


def test_zero_replicas_is_allowed_and_means_stopped() -> None:
    assert replica_count(service_kind("streaming-app"), 0) == 0


def test_a_first_start_begins_a_lookback_ago_on_the_interval_grid() -> None:
    plan = InjectPlan(meters=200, rate=50).started(NOW_S + 17)
    assert plan.sim_start_s == NOW_S - LOOKBACK_S
    assert plan.sim_start_s % INTERVAL_S == 0
    assert plan.speedup == 15.0  # 50 readings/s from 200 meters read every 60 s


def test_a_restart_continues_simulated_time_instead_of_replaying_it() -> None:
    first = InjectPlan(meters=200, rate=50).started(NOW_S)
    again = first.started(NOW_S + 120)  # two wall minutes at 15x: thirty simulated minutes
    assert again.sim_start_s == first.sim_start_s + 30 * 60
    assert again.wall_start_s == NOW_S + 120


def test_event_time_never_passes_the_launch_time() -> None:
    first = InjectPlan(meters=10, rate=1000).started(NOW_S)  # 6000x
    later = first.started(NOW_S + 3600)
    assert later.sim_start_s <= NOW_S + 3600
    args = later.args(1, "S", "p")
    assert args[args.index("--intervals") + 1] == "1"


def test_inject_args_grow_the_fleet_with_the_replicas() -> None:
    args = InjectPlan(meters=100, rate=10).started(NOW_S).args(3, "S_X", "x.readings")
    assert args[args.index("--meters") + 1] == "300"
    assert args[args.index("--replicas") + 1] == "3"
    assert args[args.index("--stream") + 1] == "S_X"
    start = datetime.fromisoformat(args[args.index("--start") + 1])
    assert start == datetime.fromtimestamp(NOW_S - LOOKBACK_S, UTC)


@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
def test_injector_replicas_own_disjoint_slices_covering_the_fleet(replicas: int) -> None:
    kind = service_kind("inject")
    meters = 7 * replicas
    slices = []
    for replica in range(replicas):
        index = int(replica_args(kind, replica)[1])
        fleet = Fleet(FleetConfig(meters=meters, replica=index, replicas=replicas), START)
        slices.append(set(fleet.meter_ids))
    assert sum(len(owned) for owned in slices) == meters
    assert len(set().union(*slices)) == meters


START = datetime(2026, 1, 1, tzinfo=UTC)


def test_swarm_tasks_take_their_slice_from_the_task_slot() -> None:
    assert slot_environment(service_kind("inject")) == {
        "SMART_METER_INJECT_TASK_SLOT": "{{.Task.Slot}}"
    }
    app = slot_environment(service_kind("streaming-app"))
    assert app["SMART_METER_APP_REPLICA_ID"] == "console-app-{{.Task.Slot}}"


@pytest.fixture
def sleeper() -> Iterator[psutil.Process]:
    """A process in its own session, as the local backend starts replicas."""
    popen = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    yield psutil.Process(popen.pid)
    popen.kill()
    popen.wait()


def record_of(
    process: psutil.Process, replica: int, create_time: float | None = None
) -> ReplicaRecord:
    created = process.create_time() if create_time is None else create_time
    return ReplicaRecord(process.pid, created, replica, 2, ["python", "-m", "inject"], {})


def test_stop_ends_a_recorded_replica_found_by_a_new_console(
    tmp_path: Path, sleeper: psutil.Process
) -> None:
    settings = ConsoleSettings(services_dir=tmp_path, stop_timeout_s=30)
    folder = ServiceFolder(tmp_path, "inject")
    folder.want(Wanted(2))
    folder.save(record_of(sleeper, replica=1))  # argv holds no --replica: never read
    row = LocalBackend(settings).row(service_kind("inject"))
    assert (row.wanted, row.running) == (2, 1)
    assert LocalBackend(settings).stop(service_kind("inject"))
    assert not sleeper.is_running() or sleeper.status() == psutil.STATUS_ZOMBIE
    assert folder.records() == []


def test_a_recycled_pid_is_never_signalled(tmp_path: Path, sleeper: psutil.Process) -> None:
    settings = ConsoleSettings(services_dir=tmp_path, stop_timeout_s=30)
    folder = ServiceFolder(tmp_path, "inject")
    folder.save(record_of(sleeper, replica=0, create_time=sleeper.create_time() - 100))
    assert not LocalBackend(settings).stop(service_kind("inject"))
    assert sleeper.is_running()
    assert sleeper.status() != psutil.STATUS_ZOMBIE


def test_an_unreadable_record_is_skipped(tmp_path: Path) -> None:
    folder = ServiceFolder(tmp_path, "inject")
    folder.path.mkdir(parents=True)
    (folder.path / "replica-0.json").write_text('{"pid": 1}')
    assert folder.records() == []


def shell(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_shell("local", argv)
    return code, capsys.readouterr().err


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_CONSOLE_SERVICES_DIR", str(tmp_path))
    monkeypatch.setenv("SMART_METER_NATS_URL", f"nats://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SMART_METER_INFLUXDB_URL", f"http://127.0.0.1:{free_port()}")


@pytest.mark.usefixtures("isolated")
def test_shell_wrong_service_or_negative_count_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["scale", "nope", "3"], ["scale", "inject", "-3"], ["stop", "nope"]):
        code, err = shell(argv, capsys)
        assert code == 2
        assert err.count("\n") == 1
        assert err.startswith("error: ")


@pytest.mark.usefixtures("isolated")
def test_shell_unreachable_nats_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = shell(["scale", "inject", "2"], capsys)
    assert code == 1
    assert err.count("\n") == 1
    assert "cannot reach NATS at nats://127.0.0.1:" in err


@pytest.mark.usefixtures("isolated")
def test_shell_status_without_metrics_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_shell("local", ["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["service", "wanted", "running", "health", "in/s", "stored/s"]
    assert [line.split()[0] for line in lines[1:]] == list(SERVICES)


def test_a_wrong_verb_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run_shell("local", ["grow", "inject"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_stack_commands_keep_working(capsys: pytest.CaptureFixture[str]) -> None:
    assert start_services.main(["status", "nope"]) == 2
    assert "unknown service nope" in capsys.readouterr().err


def test_the_repl_backend_comes_from_the_first_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    assert start_services.repl_backend(["swarm"]) is None  # not interactive
    monkeypatch.setattr(sys, "flags", type("Flags", (), {"interactive": 1})())
    assert start_services.repl_backend([]) == "local"
    assert start_services.repl_backend(["swarm"]) == "swarm"
    assert start_services.repl_backend(["local", "status"]) is None


def test_rates_show_on_the_app_and_injector_rows_only() -> None:
    rows = [
        ServiceRow("inject", 2, 2, "ok"),
        ServiceRow("streaming-app", 1, 1, "ok"),
        ServiceRow("kafka-bridge", 0, 0, "stopped"),
    ]
    shown = with_rates(rows, Rates(in_per_s=210.0, stored_per_s=200.5, window_s=90))
    assert [(row.in_per_s, row.stored_per_s) for row in shown] == [
        (210.0, None),
        (210.0, 200.5),
        (None, None),
    ]
    table = render(shown).splitlines()
    assert table[2].split()[-2:] == ["210.0", "200.5"]


def test_the_rate_window_starts_at_the_previous_minute() -> None:
    assert window_start_s(NOW_S + 75.5) == NOW_S


def test_swarm_images_are_pinned_to_their_content_tag() -> None:
    tags = ["smart-meter/inject:latest", "smart-meter/inject:3f9a2c"]
    assert pinned_image(tags, "smart-meter/inject") == "smart-meter/inject:3f9a2c"
    with pytest.raises(ConsoleError, match="build it with"):
        pinned_image(["smart-meter/inject:latest"], "smart-meter/inject")


def test_swarm_services_get_the_callers_names_but_not_its_nats() -> None:
    environ = {
        "SMART_METER_APP_STREAM": "S_1",
        "SMART_METER_CASSANDRA_KEYSPACE": "ks",
        "SMART_METER_NATS_URL": "nats://127.0.0.1:4222",
        "SMART_METER_STATE_DIR": "/x",
        "HOME": "/root",
    }
    assert passed_environment(environ) == {
        "SMART_METER_APP_STREAM": "S_1",
        "SMART_METER_CASSANDRA_KEYSPACE": "ks",
    }


def test_swarm_nats_config_listens_on_its_own_ports_with_jetstream() -> None:
    config = nats_config("127.0.0.1", 14222, 18222)
    assert 'listen: "127.0.0.1:14222"' in config
    assert 'http: "127.0.0.1:18222"' in config
    assert "jetstream" in config


def test_the_console_imports_no_service() -> None:
    code = "import sys, console.shell, console.local; print(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout
    for service in ("inject", "streaming_app", "kafka_bridge", "batch_app", "training"):
        assert f"'{service}'" not in out


def test_swarm_with_no_engine_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_METER_CONSOLE_DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    for verb in (["status"], ["scale", "inject", "2"], ["stop-all"]):
        assert run_shell("swarm", verb) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "cannot reach the Docker engine" in err


def test_swarm_checks_the_service_name_before_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_METER_CONSOLE_DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    assert run_shell("swarm", ["scale", "nope", "2"]) == 2
    assert "unknown service 'nope'" in capsys.readouterr().err
