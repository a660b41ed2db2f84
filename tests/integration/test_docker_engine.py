"""The project's own Docker engine and its images, built without a registry.

Real dockerd (Debian's docker.io, installed by the project when missing), real builds
from the mmdebstrap base, real containers. The engine of the session's state folder is
reused (like the local stack); the stop test runs a second engine in a folder of its own.
"""

from __future__ import annotations

import io
import secrets
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import psutil
import pytest

from stack.docker import DockerService
from stack.images import IMAGES, REPOSITORY, build_images
from stack.manager import LocalStack
from stack.settings import StackSettings
from tests.conftest import free_port
from tests.docker_support import (
    assert_nats_takes_only,
    engine_client,
    health_of,
    start_engine,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(3600)]

SERVICE_IMAGES = ("inject", "streaming-app", "kafka-bridge")


@pytest.fixture(scope="module")
def engine() -> DockerService:
    return start_engine(StackSettings())


@pytest.fixture(scope="module")
def client(engine: DockerService) -> Iterator[docker.DockerClient]:
    client = engine_client(engine)
    yield client
    client.close()


@pytest.fixture(scope="module")
def images(engine: DockerService) -> dict[str, str]:
    """Every image, built (or found unchanged) in the engine: name -> digest tag."""
    results = build_images(None, engine.settings)
    return {name: result.tag for name, result in zip(IMAGES, results, strict=True)}


def secret_file(folder: Path, content: str) -> Path:
    path = folder / "secret"
    path.write_text(content)
    path.chmod(0o644)  # the container's user (uid 10001) reads it through the bind mount
    return path


def test_the_engine_keeps_everything_under_the_state_folder(
    engine: DockerService, client: docker.DockerClient
) -> None:
    info = client.info()
    assert engine.settings.docker_host == f"unix://{engine.settings.state_dir}/docker/docker.sock"
    assert Path(info["DockerRootDir"]).is_relative_to(engine.settings.state_dir)
    assert "unix:///var/run/docker.sock" not in engine.command()


def test_a_second_build_skips_every_unchanged_image(
    engine: DockerService, images: dict[str, str], client: docker.DockerClient
) -> None:
    again = build_images(None, engine.settings)
    assert [result.tag for result in again] == list(images.values())
    assert not any(result.built for result in again)
    for name, tag in images.items():
        assert client.images.get(tag).id == client.images.get(f"{REPOSITORY}/{name}:latest").id


def test_every_image_runs_as_a_non_root_user(
    images: dict[str, str], client: docker.DockerClient
) -> None:
    for name, tag in images.items():
        assert client.images.get(tag).attrs["Config"]["User"] == "10001:10001", name
        container = client.containers.run(
            tag, entrypoint=["id", "-u"], command=[], network_mode="none", detach=True
        )
        try:
            assert container.wait(timeout=300)["StatusCode"] == 0, name
            assert container.logs().decode().strip() == "10001", name
        finally:
            container.remove(force=True, v=True)  # with its anonymous volumes


MODULES = {
    "inject": "inject",
    "streaming-app": "streaming_app",
    "kafka-bridge": "kafka_bridge",
    "spark": "batch_app",
}


def test_each_image_runs_its_service_behind_a_password(
    images: dict[str, str], client: docker.DockerClient, tmp_path: Path
) -> None:
    """Every dependency of the service is in its image: its CLI starts (``--help``), and the
    image's own command is the service's."""
    secret = secret_file(tmp_path, secrets.token_urlsafe(16))
    for name, module in MODULES.items():
        container = client.containers.run(
            images[name],
            ["python", "-m", module, "--help"],
            detach=True,
            network_mode="none",
            environment={
                "SMART_METER_NATS_PASSWORD_FILE": "/run/secrets/password",
                "SMART_METER_CASSANDRA_PASSWORD_FILE": "/run/secrets/password",
            },
            volumes={str(secret): {"bind": "/run/secrets/password", "mode": "ro"}},
        )
        command = client.images.get(images[name]).attrs["Config"]["Cmd"]
        assert name == "spark" or command[:3] == ["python", "-m", module], (name, command)
        try:
            status = container.wait(timeout=300)["StatusCode"]
            output = container.logs().decode(errors="replace")
            assert status == 0, (name, output)
            assert "usage:" in output, (name, output)
        finally:
            container.remove(force=True, v=True)


@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_password_stops_each_service_with_exit_64(
    images: dict[str, str], client: docker.DockerClient, tmp_path: Path, content: str
) -> None:
    secret = secret_file(tmp_path, content)
    for name in (*SERVICE_IMAGES, "nats"):
        container = client.containers.run(
            images[name],
            detach=True,
            network_mode="none",
            environment={"SMART_METER_NATS_PASSWORD_FILE": "/run/secrets/nats_password"},
            volumes={str(secret): {"bind": "/run/secrets/nats_password", "mode": "ro"}},
        )
        try:
            assert container.wait(timeout=300)["StatusCode"] == 64, name
            lines = container.logs().decode().strip().splitlines()
            assert len(lines) == 1, (name, lines)
            assert "NATS password" in lines[0] and "empty" in lines[0], lines[0]
        finally:
            container.remove(force=True, v=True)


def test_without_a_password_file_the_service_refuses_to_start(
    images: dict[str, str], client: docker.DockerClient
) -> None:
    container = client.containers.run(images["streaming-app"], detach=True, network_mode="none")
    try:
        assert container.wait(timeout=300)["StatusCode"] == 64
        assert "SMART_METER_NATS_PASSWORD_FILE is not set" in container.logs().decode()
    finally:
        container.remove(force=True, v=True)


async def test_the_nats_image_becomes_healthy_and_requires_its_password(
    images: dict[str, str], client: docker.DockerClient, tmp_path: Path
) -> None:
    password, wrong_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    secret = secret_file(tmp_path, password + "\n")
    port, monitor = free_port(), free_port()
    listen = ["-a", "127.0.0.1", "--port", str(port), "--http_port", str(monitor)]
    container = client.containers.run(
        images["nats"],
        command=["--jetstream", "--store_dir", "/data", *listen],
        detach=True,
        network_mode="host",
        environment={
            "SMART_METER_NATS_PASSWORD_FILE": "/run/secrets/nats_password",
            "SMART_METER_HEALTH_URL": f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true",
        },
        volumes={str(secret): {"bind": "/run/secrets/nats_password", "mode": "ro"}},
    )
    try:
        wait_until("nats container healthy", lambda: health_of(container) == "healthy", 600)
        url = f"nats://127.0.0.1:{port}"
        await assert_nats_takes_only(url, "smart_meter", password, wrong_password)
    finally:
        container.remove(force=True, v=True)


def _usr_only_image(client: docker.DockerClient) -> str:
    """A root file system of three symlinks into the host's /usr (bind-mounted read-only)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("bin", "lib", "lib64", "sbin"):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, f"usr/{name}"
            archive.addfile(link)
    buffer.seek(0)
    client.api.import_image(src=buffer, repository="smart-meter-test/usr-only", tag="1")
    return "smart-meter-test/usr-only:1"


def process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_plain_down_stops_the_engine_its_containers_and_containerd() -> None:
    folder = Path(tempfile.mkdtemp(prefix="smd-", dir="/tmp"))  # short: unix socket paths
    settings = StackSettings(state_dir=folder / "state")
    try:
        engine = start_engine(settings)
        client = engine_client(engine)
        try:
            container = client.containers.run(
                _usr_only_image(client),
                ["/usr/bin/sleep", "3600"],
                detach=True,
                network_mode="none",
                volumes={"/usr": {"bind": "/usr", "mode": "ro"}},
            )
            container.reload()
            container_pid = container.attrs["State"]["Pid"]
        finally:
            client.close()
        assert not process_gone(container_pid)
        assert engine.leftover_processes(), "containerd of the engine should be running"

        stopped = LocalStack(settings).down()

        assert stopped["docker"] is True
        assert process_gone(container_pid)
        assert engine.leftover_processes() == []
        assert engine.running_process() is None
        assert not settings.docker_socket.exists()
    finally:
        LocalStack(settings).down(["docker"])  # a no-op unless the test failed half-way
        shutil.rmtree(folder)
