"""Client credentials in the core settings: both parts or neither, never an empty password."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from smart_meter.credentials import CredentialsError, basic_auth_headers
from smart_meter.settings import ConnectionSettings

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("nats", "cassandra", "influxdb")


def secret(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "password"
    path.write_text(content)
    return path


def test_no_credentials_means_an_unauthenticated_client() -> None:
    settings = ConnectionSettings()
    assert settings.nats_credentials() is None
    assert settings.cassandra_credentials() is None
    assert settings.influxdb_credentials() is None
    assert "user" not in settings.nats_connect_options()
    settings.check_credentials()


@pytest.mark.parametrize("server", SERVERS)
def test_the_environment_gives_a_username_and_the_password_from_its_file(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"SMART_METER_{server.upper()}_USERNAME", "meter-ops")
    monkeypatch.setenv(
        f"SMART_METER_{server.upper()}_PASSWORD_FILE", str(secret(tmp_path, "s3cret\n"))
    )
    credentials = getattr(ConnectionSettings(), f"{server}_credentials")()
    assert (credentials.username, credentials.password) == ("meter-ops", "s3cret")
    assert "s3cret" not in repr(credentials)


@pytest.mark.parametrize("server", SERVERS)
def test_a_username_without_a_password_file_is_refused(server: str) -> None:
    settings = ConnectionSettings.model_validate({f"{server}_username": "meter-ops"})
    with pytest.raises(CredentialsError, match=rf"{server} credentials: a username .* no password"):
        settings.check_credentials()


@pytest.mark.parametrize("server", SERVERS)
def test_a_password_file_without_a_username_is_refused(server: str, tmp_path: Path) -> None:
    settings = ConnectionSettings.model_validate(
        {f"{server}_password_file": secret(tmp_path, "s3cret")}
    )
    with pytest.raises(CredentialsError, match="but no username"):
        settings.check_credentials()


@pytest.mark.parametrize("content", ["", "\n", "   \n"])
def test_an_empty_password_file_is_refused(content: str, tmp_path: Path) -> None:
    path = secret(tmp_path, content)
    settings = ConnectionSettings(cassandra_username="meter-ops", cassandra_password_file=path)
    with pytest.raises(CredentialsError, match=f"password file {re.escape(str(path))} is empty"):
        settings.check_credentials()


def test_a_missing_password_file_is_refused(tmp_path: Path) -> None:
    settings = ConnectionSettings(
        influxdb_username="meter-ops", influxdb_password_file=tmp_path / "absent"
    )
    with pytest.raises(CredentialsError, match="unreadable"):
        settings.check_credentials()


def test_an_empty_postgres_password_file_is_refused_at_start_up(tmp_path: Path) -> None:
    settings = ConnectionSettings(postgres_password_file=secret(tmp_path, ""))
    with pytest.raises(CredentialsError, match=r"postgres credentials: file .* is empty"):
        settings.check_credentials()


def test_postgres_username_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMART_METER_POSTGRES_USERNAME", "mart-reader")
    assert ConnectionSettings().postgres_user == "mart-reader"


def test_nats_url_may_list_the_nodes_of_a_cluster(tmp_path: Path) -> None:
    settings = ConnectionSettings(
        nats_url="nats://127.0.0.1:14222, nats://127.0.0.1:14223,nats://127.0.0.1:14224",
        nats_username="meter-ops",
        nats_password_file=secret(tmp_path, "s3cret"),
    )
    assert settings.nats_connect_options() == {
        "servers": [f"nats://127.0.0.1:{port}" for port in (14222, 14223, 14224)],
        "user": "meter-ops",
        "password": "s3cret",
    }


def test_influxdb_credentials_travel_as_basic_auth(tmp_path: Path) -> None:
    settings = ConnectionSettings(
        influxdb_username="meter-ops", influxdb_password_file=secret(tmp_path, "s3cret")
    )
    headers = basic_auth_headers(settings.influxdb_credentials())
    assert headers == {"Authorization": "Basic bWV0ZXItb3BzOnMzY3JldA=="}
    assert basic_auth_headers(None) == {}


@pytest.mark.parametrize(
    "module", [["streaming_app", "run"], ["kafka_bridge", "nats-to-kafka"], ["inject"]]
)
def test_a_service_with_a_half_set_credential_refuses_to_start_with_one_line(
    module: list[str], tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "SMART_METER_NATS_PASSWORD_FILE": str(tmp_path / "pw")}
    (tmp_path / "pw").write_text("s3cret")
    result = subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: nats credentials: a password file")
    assert "SMART_METER_NATS_USERNAME" in lines[0]
