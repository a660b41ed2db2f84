"""The swarm backend: each service is a Docker Swarm service of the project's images.

Services run on the host network with content-pinned images (``smart-meter/<name>:
<digest>``). The console's NATS gets its configuration as a Docker config and its
password as a Docker secret; every service reads the same secret. An injector task
learns its slice from ``{{.Task.Slot}}``; scaling the injector updates every task to the
new ``--replicas``. ``stop_all`` removes the services, configs and secrets and waits until
their containers are gone.
"""

from __future__ import annotations

import functools
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import docker
from docker.errors import DockerException, NotFound
from docker.models.services import Service
from docker.types import (
    ConfigReference,
    Mount,
    RestartPolicy,
    SecretReference,
    ServiceMode,
    UpdateConfig,
)

from console.backend import ServiceRow
from console.catalogue import (
    SERVICES,
    ServiceKind,
    app_environment,
    inject_plan,
    service_args,
    slot_environment,
)
from console.errors import BackendUnreachableError, ConsoleError
from console.settings import ConsoleSettings
from console.swarm_specs import (
    KIND_LABEL,
    LABEL,
    NATS_CONFIG_PATH,
    NATS_PASSWORD_PATH,
    OPTIONS_LABEL,
    client_environment,
    env_list,
    nats_config,
    passed_environment,
    pinned_image,
    service_name,
)
from stack.errors import StackError
from stack.manager import LocalStack

ENGINE = "docker"  # the project's own Docker engine, a service of the local stack
SWARM_SERVICE_LABEL = "com.docker.swarm.service.name"
GONE_TIMEOUT_S = 180.0
POLL_S = 0.5


P = ParamSpec("P")
R = TypeVar("R")


def engine_call(verb: Callable[P, R]) -> Callable[P, R]:
    """An error of the engine (or of the stack starting it) is one line, exit status 1."""

    @functools.wraps(verb)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return verb(*args, **kwargs)
        except (DockerException, StackError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise BackendUnreachableError(f"{type(error).__name__}: {first}") from None

    return guarded


class SwarmBackend:
    """Services of one Docker Swarm, labelled so that a new console finds them."""

    name = "swarm"

    def __init__(self, settings: ConsoleSettings | None = None) -> None:
        self.settings = settings or ConsoleSettings()
        self.prefix = self.settings.swarm_prefix
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        """The engine's client, connected on first use; one line if it cannot be reached."""
        if self._client is None:
            url = self.settings.docker_url()
            try:
                client = docker.DockerClient(base_url=url, timeout=60)
                client.ping()
            except (DockerException, OSError) as error:
                raise BackendUnreachableError(
                    f"cannot reach the Docker engine at {url}: start it with "
                    f"`python start_services.py swarm up` ({type(error).__name__})"
                ) from None
            self._client = client
        return self._client

    # ---- the verbs ------------------------------------------------------------------
    @engine_call
    def up(self) -> list[str]:
        lines = []
        if ENGINE in LocalStack().services:
            lines += [result.line() for result in LocalStack().up((ENGINE,))]
        if not self.swarm_active():
            self.client.swarm.init(
                advertise_addr="127.0.0.1",
                listen_addr=f"127.0.0.1:{self.settings.swarm_listen_port}",
                data_path_port=self.settings.swarm_data_path_port,
            )
            lines.append("swarm       initialised on 127.0.0.1")
        else:
            lines.append("swarm       active")
        return lines

    @engine_call
    def run(self, kind: ServiceKind, replicas: int, options: dict[str, object]) -> None:
        self.require_swarm()
        self.remove(service_name(self.prefix, kind))
        self.ensure_nats()
        self.create(kind, replicas, options)

    @engine_call
    def scale(self, kind: ServiceKind, replicas: int) -> None:
        self.require_swarm()
        service = self.find(service_name(self.prefix, kind))
        if service is None:
            self.ensure_nats()
            self.create(kind, replicas, {})
            return
        if kind.name != "inject":
            service.scale(replicas)
            return
        options = inject_plan(self.options_of(service)).started(time.time()).to_json()
        service.update(
            args=self.args(kind, options, replicas),
            mode=ServiceMode("replicated", replicas=replicas),
            labels=self.labels(kind, options),
        )

    @engine_call
    def stop(self, kind: ServiceKind) -> bool:
        return self.remove(service_name(self.prefix, kind))

    @engine_call
    def stop_all(self) -> list[str]:
        """Every labelled service, then configs and secrets; waits for the containers."""
        if not self.swarm_active():
            return []
        mine = {"label": f"{LABEL}={self.prefix}"}
        lines = []
        for service in self.client.services.list(filters=mine):
            service.remove()
            lines.append(f"{service.name:<24} removed")
        self.wait_gone()
        for config in self.client.configs.list(filters=mine):
            config.remove()
        for secret in self.client.secrets.list(filters=mine):
            secret.remove()
        return lines

    @engine_call
    def rows(self) -> list[ServiceRow]:
        if not self.swarm_active():
            return [ServiceRow(name, 0, 0, "no swarm") for name in ("nats", *SERVICES)]
        return [self.row(name) for name in ("nats", *SERVICES)]

    @engine_call
    def logs(self, kind: ServiceKind, lines: int) -> str:
        service = self.find(service_name(self.prefix, kind))
        if service is None:
            return f"{kind.name}: no such service"
        chunks = service.logs(stdout=True, stderr=True, tail=str(lines), timestamps=False)
        return b"".join(chunks).decode(errors="replace")

    @engine_call
    def down(self) -> list[str]:
        lines = self.stop_all()
        if ENGINE in LocalStack().services:
            for name, was_running in LocalStack().down((ENGINE,)).items():
                lines.append(f"{name:<11} {'stopped' if was_running else 'was not running'}")
        return lines

    # ---- services -------------------------------------------------------------------
    def create(self, kind: ServiceKind, replicas: int, options: dict[str, object]) -> None:
        if kind.name == "inject":
            options = inject_plan(options).started(time.time()).to_json()
        env = {
            **passed_environment(),
            **client_environment(self.nats_url()),
            **app_environment(kind, self.settings.stream, self.settings.subject_prefix),
            **slot_environment(kind),
        }
        self.client.services.create(
            self.image(kind.name),
            args=self.args(kind, options, replicas),
            name=service_name(self.prefix, kind),
            env=env_list(env),
            labels=self.labels(kind, options),
            networks=["host"],
            mode=ServiceMode("replicated", replicas=replicas),
            secrets=[self.secret_reference()],
            restart_policy=RestartPolicy(condition="on-failure", delay=1_000_000_000),
            update_config=UpdateConfig(parallelism=0, order="stop-first"),
        )

    def args(self, kind: ServiceKind, options: dict[str, object], replicas: int) -> list[str]:
        stream, prefix = self.settings.stream, self.settings.subject_prefix
        return ["python", "-m", kind.module, *service_args(kind, options, replicas, stream, prefix)]

    def labels(self, kind: ServiceKind | str, options: dict[str, object]) -> dict[str, str]:
        name = kind if isinstance(kind, str) else kind.name
        return {LABEL: self.prefix, KIND_LABEL: name, OPTIONS_LABEL: json.dumps(options)}

    def options_of(self, service: Service) -> dict[str, object]:
        labels = service.attrs["Spec"].get("Labels") or {}
        options: dict[str, object] = json.loads(labels.get(OPTIONS_LABEL) or "{}")
        return options

    def find(self, name: str) -> Service | None:
        found = self.client.services.list(filters={"name": name})
        return next((service for service in found if service.name == name), None)

    def remove(self, name: str) -> bool:
        service = self.find(name)
        if service is None:
            return False
        service.remove()
        self.wait_gone(name)
        return True

    def containers(self, name: str | None = None) -> list[dict[str, Any]]:
        """Containers of one service, or of every service of this console (the plain list:
        no inspect per container, which fails for one removed in between)."""
        names = {name} if name else {service_name(self.prefix, n) for n in ("nats", *SERVICES)}
        found = self.client.api.containers(all=True, filters={"label": SWARM_SERVICE_LABEL})
        return [c for c in found if (c.get("Labels") or {}).get(SWARM_SERVICE_LABEL) in names]

    def wait_gone(self, name: str | None = None) -> None:
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while self.containers(name):
            if time.monotonic() > deadline:
                raise BackendUnreachableError(
                    f"containers of {name or self.prefix} still there after {GONE_TIMEOUT_S:.0f} s"
                )
            time.sleep(POLL_S)  # polling the engine for a condition, with a bound

    def row(self, name: str) -> ServiceRow:
        service = self.find(service_name(self.prefix, name))
        if service is None:
            return ServiceRow(name, 0, 0, "stopped")
        wanted = int(service.attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 0))
        tasks = service.tasks(filters={"desired-state": "running"})
        running = [task for task in tasks if task["Status"]["State"] == "running"]
        if len(running) == wanted:
            return ServiceRow(name, wanted, len(running), "ok")
        errors = [task["Status"].get("Err") for task in tasks if task["Status"].get("Err")]
        health = errors[0][:60] if errors else f"{len(running)} of {wanted} running"
        return ServiceRow(name, wanted, len(running), health)

    # ---- NATS, secrets, images ------------------------------------------------------
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.settings.swarm_nats_port}"

    def ensure_nats(self) -> None:
        name = service_name(self.prefix, "nats")
        if self.find(name) is not None:
            return
        port, monitor = self.settings.swarm_nats_port, self.settings.swarm_nats_monitor_port
        config = self.client.configs.create(
            name=f"{name}-conf-{secrets.token_hex(4)}",
            data=nats_config("127.0.0.1", port, monitor).encode(),
            labels={LABEL: self.prefix},
        )
        env = {
            **client_environment(self.nats_url()),
            "SMART_METER_HEALTH_URL": f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true",
        }
        self.client.services.create(
            self.image("nats"),
            args=["-c", NATS_CONFIG_PATH],
            name=name,
            env=env_list(env),
            labels=self.labels("nats", {}),
            networks=["host"],
            mode=ServiceMode("replicated", replicas=1),
            configs=[ConfigReference(str(config.id), str(config.name), filename=NATS_CONFIG_PATH)],
            secrets=[self.secret_reference()],
            mounts=[Mount(target="/data", source="", type="tmpfs")],  # no volume left behind
        )

    def secret_reference(self) -> SecretReference:
        name = f"{self.prefix}-nats-password"
        found = [secret for secret in self.client.secrets.list(filters={"name": name})]
        secret = next((s for s in found if s.name == name), None)
        if secret is None:
            password = self.new_password().encode()
            secret = self.client.secrets.create(
                name=name, data=password, labels={LABEL: self.prefix}
            )
        return SecretReference(
            str(secret.id),
            name,
            filename=NATS_PASSWORD_PATH.rsplit("/", 1)[1],
            uid="10001",
            mode=0o400,
        )

    def new_password(self) -> str:
        """A fresh password, kept in a git-ignored file so that tools can connect."""
        path = self.settings.swarm_password_file()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        path.touch(mode=0o600)
        path.write_text(password + "\n")
        return password

    def image(self, name: str) -> str:
        repository = f"smart-meter/{name}"
        try:
            tags = self.client.images.get(f"{repository}:latest").tags
        except NotFound:
            raise BackendUnreachableError(
                f"no image {repository}:latest: build it with `python -m stack.images`"
            ) from None
        return pinned_image(list(tags), repository)

    # ---- the swarm itself -----------------------------------------------------------
    def swarm_active(self) -> bool:
        state = self.client.info().get("Swarm", {}).get("LocalNodeState")
        return bool(state == "active")

    def require_swarm(self) -> None:
        if not self.swarm_active():
            raise ConsoleError("this engine is not in a swarm: call up() first")
