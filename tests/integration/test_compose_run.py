"""``docker-compose up`` of the NATS service of ``compose/docker-compose.yml``, for real.

On the project's own engine with Debian's Compose v1 and the credentials of
``python -m stack.credentials compose``: the server becomes healthy behind the generated
password. Only NATS runs: the public images of the other servers cannot be pulled here,
and the services need the client credentials of their own issue to talk to it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from stack.settings import PROJECT_ROOT, StackSettings
from tests.conftest import free_port
from tests.docker_support import (
    assert_nats_takes_only,
    build,
    engine_client,
    health_of,
    start_engine,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.timeout(3600)]


async def test_compose_runs_nats_healthy_behind_the_generated_password(tmp_path: Path) -> None:
    settings = StackSettings()
    engine = start_engine(settings)
    build(["nats"], settings)
    folder = tmp_path / "compose"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "compose" / "docker-compose.yml", folder)
    generate = [sys.executable, "-m", "stack.credentials", "compose", "--folder", str(folder)]
    subprocess.run(generate, check=True, capture_output=True, cwd=PROJECT_ROOT)
    port, monitor = free_port(), free_port()
    project = f"smtest{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "DOCKER_HOST": settings.docker_host}
    env |= {"SMART_METER_NATS_PORT": str(port), "SMART_METER_NATS_MONITOR_PORT": str(monitor)}
    compose = ["docker-compose", "-p", project, "-f", str(folder / "docker-compose.yml")]
    client = engine_client(engine)
    label: dict[str, str | list[str] | bool] = {"label": f"com.docker.compose.project={project}"}
    try:
        up = subprocess.run(
            [*compose, "up", "-d", "nats"], capture_output=True, text=True, env=env, check=False
        )
        assert up.returncode == 0, up.stderr
        [container] = client.containers.list(filters=label)
        wait_until("compose nats healthy", lambda: health_of(container) == "healthy", 600)
        password = (folder / "secrets" / "nats_password").read_text().strip()
        url = f"nats://127.0.0.1:{port}"
        await assert_nats_takes_only(url, "smart_meter", password, secrets.token_urlsafe(16))
    finally:
        down = subprocess.run(
            [*compose, "down", "-v"], capture_output=True, text=True, env=env, check=False
        )
        leftovers = [
            *client.containers.list(all=True, filters=label),
            *client.volumes.list(filters=label),
            *client.networks.list(filters=label),
        ]
        client.close()
    assert down.returncode == 0, down.stderr
    assert leftovers == []
