"""python -m stack.credentials compose: random, private, kept unless forced."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.credentials import ENV_PASSWORDS, PASSWORDS, compose_credentials, main


def test_compose_credentials_are_random_private_files(tmp_path: Path) -> None:
    lines = compose_credentials(tmp_path)
    assert len(lines) == len(PASSWORDS) + 1
    values = {name: (tmp_path / "secrets" / name).read_text().strip() for name in PASSWORDS}
    assert len(set(values.values())) == len(PASSWORDS)
    assert all(len(value) >= 40 for value in values.values())
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700  # nobody else enters
    for name in PASSWORDS:  # readable by the containers' user through the bind mount
        assert (tmp_path / "secrets" / name).stat().st_mode & 0o777 == 0o644
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600


def test_the_env_file_carries_the_same_passwords_as_the_secret_files(tmp_path: Path) -> None:
    compose_credentials(tmp_path)
    env = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
    for variable, name in ENV_PASSWORDS.items():
        assert env[variable] == (tmp_path / "secrets" / name).read_text().strip()


def test_existing_credentials_are_kept_unless_forced(tmp_path: Path) -> None:
    compose_credentials(tmp_path)
    before = (tmp_path / "secrets" / "nats_password").read_text()
    assert all(line.endswith("kept") for line in compose_credentials(tmp_path))
    assert (tmp_path / "secrets" / "nats_password").read_text() == before
    compose_credentials(tmp_path, force=True)
    assert (tmp_path / "secrets" / "nats_password").read_text() != before


def test_an_empty_secret_file_is_replaced(tmp_path: Path) -> None:
    compose_credentials(tmp_path)
    (tmp_path / "secrets" / "postgres_password").write_text("\n")
    compose_credentials(tmp_path)
    assert (tmp_path / "secrets" / "postgres_password").read_text().strip()


def test_the_cli_writes_into_the_given_folder(tmp_path: Path) -> None:
    assert main(["compose", "--folder", str(tmp_path)]) == 0
    assert (tmp_path / "secrets" / "grafana_admin_password").exists()


def test_swarm_without_an_engine_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    assert main(["swarm"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "no Docker engine answers" in error
