"""A real ``docker stack deploy`` of ``swarm/stack.yml`` on the project's own engine.

The swarm is initialised on loopback (``docker swarm init --advertise-addr 127.0.0.1``)
when the engine is not in one yet, and left again at the end, also on failure. The stack
runs the 3 NATS servers and a Spark master and worker (every other service is scaled to 0:
their public images cannot be pulled here). Waiting is done by polling NATS's ``/jsz``
and the stream's info, and Spark's ``/json/``, each with a bound of minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker
import nats
import pytest
from docker.errors import NotFound
from docker.models.networks import Network
from nats.errors import Error as NatsError
from nats.js.api import StreamConfig

from stack.credentials import PASSWORDS
from stack.settings import PROJECT_ROOT, StackSettings
from tests.conftest import free_port
from tests.docker_support import build, engine_client, start_engine, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(3600)]

STACK_FILE = PROJECT_ROOT / "swarm" / "stack.yml"
NATS_SERVERS = (1, 2, 3)
WAIT_S = 600
LEFT_OUT = ("CASSANDRA", "KAFKA", "INFLUXDB", "POSTGRES", "GRAFANA", "INJECT", "APP", "BRIDGE")


@dataclass(frozen=True)
class Deployed:
    name: str
    client: docker.DockerClient
    nats_password: str
    nats_ports: tuple[int, ...]
    monitor_ports: tuple[int, ...]
    spark_ui_port: int


def swarm_active(client: docker.DockerClient) -> bool:
    return bool(client.info()["Swarm"]["LocalNodeState"] == "active")


def docker_cli(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        ["docker", *argv], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert result.returncode == 0, f"docker {' '.join(argv)}: {result.stderr}"


def print_logs(client: docker.DockerClient, stack: str) -> None:
    """Every task's state and the last log lines of every service of the stack."""
    label: dict[str, str | list[str] | bool] = {"label": f"com.docker.stack.namespace={stack}"}
    for service in client.services.list(filters=label):
        print(f"==== {service.name}")
        for task in service.tasks():  # type: ignore[no-untyped-call]
            status = task["Status"]
            print(f"task {task.get('Slot')}: {status['State']} {status.get('Err', '')}")
        for chunk in service.logs(stdout=True, stderr=True, tail="60"):
            print(chunk.decode(errors="replace"), end="")


def removed(network: Network) -> Callable[[], bool]:
    """A probe that removes the network; True once it is gone (its endpoints go first)."""

    def probe() -> bool:
        try:
            network.remove()
        except NotFound:
            return True
        return True

    return probe


def remove_stack(client: docker.DockerClient, stack: str) -> None:
    """``docker stack rm``, then wait until its containers, networks and volumes are gone."""
    label: dict[str, str | list[str] | bool] = {"label": f"com.docker.stack.namespace={stack}"}
    for service in client.services.list(filters=label):
        service.remove()  # type: ignore[no-untyped-call]
    wait_until(
        "stack containers gone", lambda: not client.containers.list(all=True, filters=label), WAIT_S
    )
    for config in client.configs.list(filters=label):
        config.remove()
    for network in client.networks.list(filters=label):
        wait_until(f"network {network.name} removed", removed(network), 120)
    for volume in client.volumes.list(filters=label):
        volume.remove(force=True)


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    settings = StackSettings()
    engine = start_engine(settings)
    build(["nats", "spark"], settings)
    client = engine_client(engine)
    joined = not swarm_active(client)
    if joined:
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    stack = f"smtest{uuid.uuid4().hex[:6]}"
    prefix = f"{stack}_"
    values = {name: secrets.token_urlsafe(32) for name in PASSWORDS}
    created = [
        client.secrets.create(name=prefix + name, data=value.encode())
        for name, value in values.items()
    ]
    nats_ports = tuple(free_port() for _ in NATS_SERVERS)
    monitor_ports = tuple(free_port() for _ in NATS_SERVERS)
    deployment = Deployed(
        stack, client, values["nats_password"], nats_ports, monitor_ports, free_port()
    )
    env = {**os.environ, "DOCKER_HOST": settings.docker_host}
    env |= {f"SMART_METER_{part}_REPLICAS": "0" for part in LEFT_OUT}
    env |= {
        "SMART_METER_ENDPOINT_MODE": "dnsrr",
        "SMART_METER_SECRET_PREFIX": prefix,
        "SMART_METER_SPARK_WORKERS": "1",
        "SMART_METER_SPARK_WORKER_CORES": "1",
        "SMART_METER_SPARK_WORKER_MEMORY": "512m",
        "SMART_METER_SPARK_UI_PORT": str(deployment.spark_ui_port),
    }
    for index, (port, monitor) in enumerate(zip(nats_ports, monitor_ports, strict=True), start=1):
        env[f"SMART_METER_NATS_PORT_{index}"] = str(port)
        env[f"SMART_METER_NATS_MONITOR_PORT_{index}"] = str(monitor)
    failed = True
    try:
        docker_cli(
            ["stack", "deploy", "--resolve-image", "never", "-c", str(STACK_FILE), stack], env
        )
        yield deployment
        failed = False
    finally:
        if failed or os.environ.get("SMART_METER_TEST_PRINT_LOGS"):
            print_logs(client, stack)
        try:
            remove_stack(client, stack)
            for secret in created:
                secret.remove()
        finally:
            if joined:
                leave_swarm(client)
            client.close()


def leave_swarm(client: docker.DockerClient) -> None:
    """Leave the swarm this test made, and remove the bridge the swarm created."""
    client.swarm.leave(force=True)
    for network in client.networks.list(names=["docker_gwbridge"]):
        wait_until("docker_gwbridge removed", removed(network), 120)


def monitor(port: int, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
        return dict(json.load(reply))


def jetstream_cluster_formed(deployed: Deployed) -> bool:
    """Each server's /jsz names one meta leader and a meta group of all three servers."""
    leaders = set()
    for port in deployed.monitor_ports:
        meta = monitor(port, "/jsz").get("meta_cluster", {})
        if meta.get("cluster_size") != len(NATS_SERVERS) or not meta.get("leader"):
            return False
        leaders.add(meta["leader"])
    return len(leaders) == 1


def test_the_three_nats_servers_form_a_jetstream_cluster(deployed: Deployed) -> None:
    wait_until(
        "a 3-server JetStream meta group", lambda: jetstream_cluster_formed(deployed), WAIT_S, 2
    )
    names = {monitor(port, "/varz")["server_name"] for port in deployed.monitor_ports}
    assert names == {"nats-1", "nats-2", "nats-3"}


async def test_a_stream_keeps_three_replicas_behind_the_secret(deployed: Deployed) -> None:
    wait_until(
        "a 3-server JetStream meta group", lambda: jetstream_cluster_formed(deployed), WAIT_S, 2
    )
    urls = [f"nats://127.0.0.1:{port}" for port in deployed.nats_ports]
    with pytest.raises((NatsError, OSError)):
        await nats.connect(urls[0], allow_reconnect=False, max_reconnect_attempts=0)
    connection = await nats.connect(urls, user="smart_meter", password=deployed.nats_password)
    try:
        js = connection.jetstream(timeout=30)
        config = StreamConfig(name="swarm_test", subjects=["swarm.test.>"], num_replicas=3)
        await js.add_stream(config)
        ack = await js.publish("swarm.test.1", b"reading")
        assert ack.seq == 1

        async def all_replicas_current() -> bool:
            info = await js.stream_info("swarm_test")
            replicas = info.cluster.replicas or [] if info.cluster else []
            return (
                bool(info.cluster and info.cluster.leader)
                and len(replicas) == 2
                and all(replica.current for replica in replicas)
            )

        await wait_async("3 current replicas of the stream", all_replicas_current)
        info = await js.stream_info("swarm_test")
        assert info.config.num_replicas == 3
        assert info.state.messages == 1
    finally:
        await connection.close()


async def wait_async(what: str, probe: Any, timeout_s: float = WAIT_S) -> None:
    import asyncio  # noqa: PLC0415 - only this helper needs it

    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await probe():
            return
        await asyncio.sleep(1)  # poll interval between probes
    raise AssertionError(f"{what} not reached after {timeout_s:.0f} s")


def test_the_spark_worker_registers_with_the_master(deployed: Deployed) -> None:
    def alive_workers() -> int:
        state = monitor(deployed.spark_ui_port, "/json/")
        return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")

    assert wait_until("an ALIVE Spark worker", alive_workers, WAIT_S, 2) == 1


def test_the_credentials_command_creates_each_secret_once(deployed: Deployed) -> None:
    prefix = f"{deployed.name}cli_"
    env = {**os.environ, "DOCKER_HOST": StackSettings().docker_host}
    command = [sys.executable, "-m", "stack.credentials", "swarm", "--prefix", prefix]
    try:
        first = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        assert first.stdout.count("created") == len(PASSWORDS)
        second = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        assert second.stdout.count("kept") == len(PASSWORDS)
        names = {secret.name for secret in deployed.client.secrets.list()}
        assert {prefix + name for name in PASSWORDS} <= names
    finally:
        for secret in deployed.client.secrets.list():
            if secret.name.startswith(prefix):
                secret.remove()
