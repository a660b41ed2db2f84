"""Helpers of the Docker tests: the project's engine, images, and waiting on containers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import docker
import nats
import pytest
from docker.models.containers import Container
from nats.errors import Error as NatsError

from stack.docker import DockerService
from stack.images import BuildResult, build_images
from stack.manager import LocalStack
from stack.settings import StackSettings

T = TypeVar("T")


def start_engine(settings: StackSettings | None = None) -> DockerService:
    """The project's own engine for ``settings``: started if down, reused if running."""
    stack = LocalStack(settings)
    [result] = stack.up(["docker"])
    assert result.status.healthy, result.line()
    service = stack.services["docker"]
    assert isinstance(service, DockerService)
    return service


def engine_client(service: DockerService) -> docker.DockerClient:
    return docker.DockerClient(base_url=service.settings.docker_host, timeout=600)


def build(names: list[str], settings: StackSettings) -> dict[str, BuildResult]:
    """Build (or find unchanged) the named images; results by image name."""
    results = build_images(names, settings)
    return {name: result for name, result in zip(names, results, strict=True)}


def wait_until(
    what: str, probe: Callable[[], T | None], timeout_s: float, step_s: float = 1.0
) -> T:
    """Poll ``probe`` until it returns something other than None/False; fail after the bound."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except Exception as error:  # noqa: BLE001 - "not yet", reported on timeout
            last_error = error
        else:
            if value:
                return value
        time.sleep(step_s)  # a poll interval between probes, not a wait for a server
    raise AssertionError(f"{what} not reached after {timeout_s:.0f} s (last error: {last_error!r})")


def health_of(container: Container) -> str:
    container.reload()
    state = container.attrs["State"]
    if state["Status"] == "exited":
        raise AssertionError(f"container exited: {container.logs().decode(errors='replace')}")
    return str(state.get("Health", {}).get("Status", "none"))


async def assert_nats_takes_only(url: str, user: str, password: str, wrong_password: str) -> None:
    """The NATS server at ``url`` lets ``user`` in with ``password``, with JetStream on,
    and refuses ``wrong_password``."""
    connection = await nats.connect(url, user=user, password=password)
    assert (await connection.jetstream().account_info()).limits is not None
    await connection.close()
    with pytest.raises((NatsError, OSError)):
        await nats.connect(
            url, user=user, password=wrong_password, allow_reconnect=False, max_reconnect_attempts=0
        )
