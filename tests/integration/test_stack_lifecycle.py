"""Life cycle of the local stack: idempotent up, restart, clean down, one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil
import pytest

from stack.errors import (
    DownloadError,
    JavaError,
    PortInUseError,
    StackError,
    UnhealthyError,
)
from stack.java import java_binary, resolve_jars
from stack.manager import LocalStack
from stack.nats import NatsService
from stack.settings import StackSettings

pytestmark = pytest.mark.integration


def test_second_up_reuses_the_running_server(isolated_settings: StackSettings) -> None:
    stack = LocalStack(isolated_settings)
    try:
        [first] = stack.up(["nats"])
        [second] = stack.up(["nats"])
    finally:
        stack.down(["nats"])
    assert first.started and first.status.healthy
    assert not second.started and second.status.healthy
    assert second.status.pid == first.status.pid


def test_up_restarts_a_service_that_was_stopped(isolated_settings: StackSettings) -> None:
    stack = LocalStack(isolated_settings)
    try:
        [first] = stack.up(["nats"])
        psutil.Process(first.status.pid).kill()
        psutil.Process(first.status.pid).wait(10)
        assert not stack.status(["nats"])[0].healthy
        [again] = stack.up(["nats"])
    finally:
        stack.down(["nats"])
    assert again.started and again.status.healthy
    assert again.status.pid != first.status.pid


def test_down_leaves_no_process_of_the_project(isolated_settings: StackSettings) -> None:
    stack = LocalStack(isolated_settings)
    [result] = stack.up(["nats"])
    pid = result.status.pid
    assert pid is not None and psutil.pid_exists(pid)
    assert stack.down(["nats"]) == {"nats": True}
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert stack.down(["nats"]) == {"nats": False}
    assert not (isolated_settings.state_dir / "nats" / "pid.json").exists()


def test_port_taken_by_another_process_is_one_clear_line(isolated_settings: StackSettings) -> None:
    with socket.socket() as holder:
        holder.bind((isolated_settings.host, isolated_settings.nats_port))
        holder.listen()
        with pytest.raises(PortInUseError) as caught:
            LocalStack(isolated_settings).up(["nats"])
    message = str(caught.value)
    assert f"{isolated_settings.nats_port} is already taken" in message
    assert "\n" not in message


class BrokenNats(NatsService):
    """A NATS whose configuration the server refuses: it must fail with its log."""

    def prepare(self) -> None:
        (self.service_dir / "nats.conf").write_text("listen: [this is not a valid config\n")


def test_server_that_exits_reports_the_last_lines_of_its_log(
    isolated_settings: StackSettings,
) -> None:
    service = BrokenNats(isolated_settings)
    process = service.start()
    with pytest.raises(UnhealthyError) as caught:
        service.wait_healthy(process)
    service.stop()
    assert "the process exited" in str(caught.value)
    assert "Parse error on line 1" in caught.value.log_tail


def test_wrong_java_version_is_one_clear_line() -> None:
    with pytest.raises(JavaError, match=r"needs Java 8, found Java 17 .* install it"):
        java_binary("cassandra", 8)


def test_jar_download_that_fails_says_what_and_how_to_retry(tmp_path: Path) -> None:
    missing = r"could not download org\.example\.nothing:absent:0\.0\.0"
    with pytest.raises(DownloadError, match=missing):
        resolve_jars("probe", ["org.example.nothing:absent:0.0.0"], tmp_path)


def test_unknown_service_name_lists_the_valid_ones() -> None:
    with pytest.raises(StackError, match="unknown service redis; choose from nats, cassandra"):
        LocalStack().select(["redis"])
