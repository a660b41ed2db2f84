"""Shared fixtures. Integration tests use the real local stack, started once per session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from smart_meter.settings import ConnectionSettings
from stack.manager import LocalStack
from stack.settings import StackSettings, connections_for


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The project's local stack: started if down, reused if up, left running for reuse."""
    local = LocalStack()
    results = local.up()
    failed = [r.line() for r in results if not r.status.healthy]
    assert not failed, f"stack not healthy: {failed}"
    yield local


@pytest.fixture(scope="session")
def connections(stack: LocalStack) -> ConnectionSettings:
    return connections_for(stack.settings)


@pytest.fixture
def isolated_settings(tmp_path: Path) -> StackSettings:
    """Settings for a second, throw-away stack on free ports in a temporary state folder."""
    return StackSettings(
        state_dir=tmp_path / "state",
        nats_port=free_port(),
        nats_monitor_port=free_port(),
    )
