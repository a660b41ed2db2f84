"""The stack's PostgreSQL on its own: a fresh cluster, restart with the same data, clean down."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from stack.manager import LocalStack
from stack.settings import StackSettings, connections_for
from tests.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def reachable_state_dir() -> Iterator[Path]:
    """A state folder the postgres user can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="smart-meter-pg-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def query(settings: StackSettings, statement: str) -> list[tuple[object, ...]]:
    connections = connections_for(settings)
    with psycopg.connect(
        host=connections.postgres_host,
        port=connections.postgres_port,
        dbname=connections.postgres_database,
        user=connections.postgres_user,
        password=connections.postgres_password_value(),
        autocommit=True,
    ) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_fresh_cluster_keeps_its_data_and_password_across_a_restart(
    reachable_state_dir: Path,
) -> None:
    settings = StackSettings(state_dir=reachable_state_dir, postgres_port=free_port())
    stack = LocalStack(settings)
    try:
        [first] = stack.up(["postgres"])
        query(settings, "CREATE TABLE kept (value int); INSERT INTO kept VALUES (42)")
        password = settings.postgres_password_file.read_text()
        assert stack.down(["postgres"]) == {"postgres": True}
        assert first.status.pid is not None and not psutil.pid_exists(first.status.pid)
        [again] = stack.up(["postgres"])
        assert query(settings, "SELECT value FROM kept") == [(42,)]
    finally:
        stack.down(["postgres"])
    assert first.started and again.started and again.status.healthy
    assert "PostgreSQL 15" in again.status.detail
    assert settings.postgres_password_file.read_text() == password
    assert (
        "database system is shut down"
        in (reachable_state_dir / "postgres" / "postgres.log").read_text()
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the cluster to the postgres user")
def test_a_state_folder_under_a_private_parent_still_serves(tmp_path: Path) -> None:
    """pytest's tmp_path is private to root, as a checkout in /root is: the server gets
    the capability to search folders (and only then), and serves from there."""
    settings = StackSettings(state_dir=tmp_path / "state", postgres_port=free_port())
    stack = LocalStack(settings)
    try:
        [result] = stack.up(["postgres"])
        assert result.status.healthy, result.line()
        assert query(settings, "SELECT current_user") == [("smart_meter",)]
        status = (Path("/proc") / str(result.status.pid) / "status").read_text()
        ambient = next(line for line in status.splitlines() if line.startswith("CapAmb:"))
        assert int(ambient.split()[1], 16) == 1 << 2  # CAP_DAC_READ_SEARCH alone
    finally:
        stack.down(["postgres"])
