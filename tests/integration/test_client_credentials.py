"""Clients use the credentials of the settings: real servers with auth on accept them and
refuse a client without them (or with a wrong password).

A throw-away InfluxDB (the stack's own binary, auth enabled, own port and folder) and a
throw-away nats-server (user and password, own port) per module; the shared stack stays
unauthenticated. Cassandra with authentication is not started here (a second Cassandra
is too heavy for this machine): its session takes the same credentials through
``PlainTextAuthProvider`` in ``smart_meter/storage/session.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from smart_meter.credentials import Credentials, basic_auth_headers
from smart_meter.influx_lines import write_lines
from smart_meter.settings import ConnectionSettings
from stack.influxdb import InfluxDBService
from stack.manager import LocalStack
from stack.nats import NatsService
from stack.settings import StackSettings
from streaming_app.sinks.metrics_sink import MetricsSink, MetricsWriteError
from streaming_app.sinks.nats_sink import NatsSink
from tests.conftest import free_port

pytestmark = pytest.mark.integration
ADMIN, PASSWORD = "meter-admin", "influx-test-password"
NATS_USER, NATS_PASSWORD = "meter-ops", "nats-test-password"
ADMIN_CONFIRM_S = 120.0


class AuthInfluxDB(InfluxDBService):
    """The stack's InfluxDB with ``auth-enabled = true``; healthy once ``/ping`` answers
    (every query needs the admin, which does not exist yet)."""

    def prepare(self) -> None:
        super().prepare()
        text = self.config_file.read_text()
        self.config_file.write_text(text.replace("auth-enabled = false", "auth-enabled = true"))

    def check_health(self) -> str:
        with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as reply:
            return f"InfluxDB {reply.headers.get('X-Influxdb-Version', 'unknown')} (auth on)"


class AuthNats(NatsService):
    """The stack's nats-server with one user and password."""

    def prepare(self) -> None:
        super().prepare()
        config = self.service_dir / "nats.conf"
        users = f'authorization {{\n  user: "{NATS_USER}"\n  password: "{NATS_PASSWORD}"\n}}\n'
        config.write_text(config.read_text() + users)


def influx_query(url: str, statement: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST ``/query``: the HTTP status and body (an error status is returned, not raised)."""
    body = urllib.parse.urlencode({"q": statement}).encode()
    request = urllib.request.Request(f"{url}/query", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def confirm_admin(url: str, headers: dict[str, str]) -> None:
    """Until the admin exists, InfluxDB 1.x lets anonymous requests through: wait (bounded)
    until an authenticated ``SHOW USERS`` lists the admin as admin."""
    replies: list[str] = []
    deadline = time.monotonic() + ADMIN_CONFIRM_S
    while time.monotonic() < deadline:
        status, body = influx_query(url, "SHOW USERS", headers)
        replies.append(f"{status} {body.strip()}")
        if status == 200:
            series = json.loads(body)["results"][0].get("series", [])
            if any(row == [ADMIN, True] for s in series for row in s.get("values", [])):
                return
        time.sleep(0.5)  # polling a condition with a bound, not waiting for a server
    raise AssertionError(f"admin {ADMIN} not confirmed in {ADMIN_CONFIRM_S} s: {replies}")


def write_secret(folder: Path, name: str, value: str) -> Path:
    path = folder / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def throwaway_settings(folder: Path) -> StackSettings:
    return StackSettings(
        state_dir=folder / "state",
        influxdb_port=free_port(),
        influxdb_rpc_port=free_port(),
        nats_port=free_port(),
        nats_monitor_port=free_port(),
    )


@pytest.fixture(scope="module")
def auth_influxdb(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StackSettings, Path]]:
    """InfluxDB with auth (the shared stack's binary) and its admin confirmed; stopped after."""
    folder = tmp_path_factory.mktemp("influxdb-auth")
    settings = throwaway_settings(folder)
    influxdb = AuthInfluxDB(settings)
    try:
        influxdb.install()
        influxdb.wait_healthy(influxdb.start())
        create = f"CREATE USER \"{ADMIN}\" WITH PASSWORD '{PASSWORD}' WITH ALL PRIVILEGES"
        status, body = influx_query(influxdb.url, create, {})
        assert status == 200, body
        confirm_admin(influxdb.url, {"Authorization": basic(ADMIN, PASSWORD)})
        yield settings, folder
    finally:
        influxdb.stop()


@pytest.fixture(scope="module")
def auth_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackSettings, Path]]:
    """nats-server with one user and password, on its own ports; stopped after."""
    folder = tmp_path_factory.mktemp("nats-auth")
    settings = throwaway_settings(folder)
    server = AuthNats(settings)
    try:
        server.install()
        server.wait_healthy(server.start())
        yield settings, folder
    finally:
        server.stop()


def basic(username: str, password: str) -> str:
    return basic_auth_headers(Credentials(username, password))["Authorization"]


def influx_connections(
    settings: StackSettings, folder: Path, password: str | None
) -> ConnectionSettings:
    values: dict[str, object] = {
        "influxdb_url": f"http://127.0.0.1:{settings.influxdb_port}",
        "influxdb_database": "credentials_test",
    }
    if password is not None:
        values["influxdb_username"] = ADMIN
        values["influxdb_password_file"] = write_secret(folder, f"influx-{len(password)}", password)
    return ConnectionSettings.model_validate(values)


def test_influxdb_clients_connect_with_the_credentials(
    auth_influxdb: tuple[StackSettings, Path],
) -> None:
    settings, folder = auth_influxdb
    connections = influx_connections(settings, folder, PASSWORD)
    assert write_lines(connections, ["credentials_probe value=1 1700000000000"]) == 1
    sink = MetricsSink(
        connections.influxdb_url, "credentials_test", credentials=connections.influxdb_credentials()
    )
    reply = json.loads(sink.query("SELECT count(value) FROM credentials_probe"))
    assert reply["results"][0]["series"][0]["values"][0][1] == 1


@pytest.mark.parametrize("password", [None, "not-the-password"], ids=["anonymous", "wrong"])
def test_without_the_password_influxdb_refuses(
    auth_influxdb: tuple[StackSettings, Path], password: str | None
) -> None:
    settings, folder = auth_influxdb
    connections = influx_connections(settings, folder, password)
    sink = MetricsSink(
        connections.influxdb_url, "credentials_test", credentials=connections.influxdb_credentials()
    )
    with pytest.raises(MetricsWriteError) as refused:
        sink.query("SHOW DATABASES")
    assert refused.value.status == 401
    with pytest.raises(urllib.error.HTTPError) as batch_refused:
        write_lines(connections, ["credentials_probe value=2 1700000000000"])
    assert batch_refused.value.code == 401


def nats_connections(
    settings: StackSettings, folder: Path, password: str | None
) -> ConnectionSettings:
    values: dict[str, object] = {"nats_url": f"nats://127.0.0.1:{settings.nats_port}"}
    if password is not None:
        values["nats_username"] = NATS_USER
        values["nats_password_file"] = write_secret(folder, f"nats-{len(password)}", password)
    return ConnectionSettings.model_validate(values)


def test_nats_clients_connect_with_the_credentials(
    auth_nats: tuple[StackSettings, Path],
) -> None:
    settings, folder = auth_nats
    connections = nats_connections(settings, folder, NATS_PASSWORD)

    async def scenario() -> None:
        nc = await nats.connect(**connections.nats_connect_options(), allow_reconnect=False)
        try:
            reply = await nc.request("$JS.API.INFO", b"", timeout=10)
            assert b'"type":"io.nats.jetstream.api.v1.account_info_response"' in reply.data
        finally:
            await nc.close()
        sink = await NatsSink.connect(
            connections.nats_servers, credentials=connections.nats_credentials()
        )
        await sink.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("password", [None, "not-the-password"], ids=["anonymous", "wrong"])
def test_without_the_password_nats_refuses(
    auth_nats: tuple[StackSettings, Path], password: str | None
) -> None:
    settings, folder = auth_nats
    connections = nats_connections(settings, folder, password)
    errors: list[Exception] = []

    async def record(error: Exception) -> None:
        errors.append(error)

    async def scenario() -> None:
        await nats.connect(
            **connections.nats_connect_options(),
            allow_reconnect=False,
            connect_timeout=10,
            error_cb=record,
        )

    with pytest.raises(NatsError) as refused:
        asyncio.run(scenario())
    said = " ".join(str(error) for error in [refused.value, *errors]).lower()
    assert "authorization violation" in said
