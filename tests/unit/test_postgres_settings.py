"""The mart's PostgreSQL password: generated once, private, read from the environment or a file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from smart_meter.settings import ConnectionSettings, PostgresPasswordError
from stack.postgres import ensure_password_file
from stack.settings import StackSettings, connections_for


def test_generated_password_file_is_private_and_kept_across_starts(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secrets" / "postgres_password"
    first = ensure_password_file(path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert ensure_password_file(path) == first


def test_local_stack_connections_read_the_password_file_of_its_state_folder(
    tmp_path: Path,
) -> None:
    stack = StackSettings(state_dir=tmp_path, postgres_port=6543)
    ensure_password_file(stack.postgres_password_file)
    connections = connections_for(stack)
    assert connections.postgres_address == "127.0.0.1:6543"
    assert connections.postgres_password_file == tmp_path / "secrets" / "postgres_password"
    assert connections.postgres_password_value() == stack.postgres_password_file.read_text().strip()


def test_password_from_the_environment_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_METER_POSTGRES_PASSWORD", "from-env")
    settings = ConnectionSettings(postgres_password_file=tmp_path / "absent")
    assert settings.postgres_password_value() == "from-env"


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot be read"), ("\n", "is empty")],
)
def test_missing_or_empty_password_file_is_refused_in_one_line(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "password"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PostgresPasswordError, match=f"file {path} {problem}") as caught:
        ConnectionSettings(postgres_password_file=path).postgres_password_value()
    assert "\n" not in str(caught.value)
    assert "SMART_METER_POSTGRES_PASSWORD_FILE" in str(caught.value)


def test_empty_password_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_POSTGRES_PASSWORD", "")
    with pytest.raises(PostgresPasswordError, match="is empty"):
        ConnectionSettings().postgres_password_value()
