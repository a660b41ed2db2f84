"""The local stack as a whole: ``up``, ``status``, ``down`` over every server.

A plain ``up`` or ``status`` covers the default servers; opt-in groups (``docker``: the
project's own Docker engine; ``nats-cluster``: three clustered NATS nodes) start only when
named, and a plain ``down`` stops those that run too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from stack.base import LocalService, ServiceStatus
from stack.cassandra import CassandraService
from stack.docker import DockerService
from stack.errors import StackError
from stack.influxdb import InfluxDBService
from stack.kafka import KafkaService
from stack.nats import NatsService
from stack.nats_cluster import NODE_CLASSES
from stack.postgres import PostgresService
from stack.settings import StackSettings

SERVICE_CLASSES: tuple[type[LocalService], ...] = (
    NatsService,
    CassandraService,
    KafkaService,
    InfluxDBService,
    PostgresService,
)
SERVICE_NAMES = tuple(cls.name for cls in SERVICE_CLASSES)
OPT_IN_GROUPS: dict[str, tuple[type[LocalService], ...]] = {
    "docker": (DockerService,),
    "nats-cluster": NODE_CLASSES,
}
"""Started only when named (``up docker``); a plain ``down`` stops them when they run."""
OPT_IN_NAMES = tuple(cls.name for group in OPT_IN_GROUPS.values() for cls in group)
ALL_NAMES = (*SERVICE_NAMES, *OPT_IN_GROUPS)


@dataclass(frozen=True)
class UpResult:
    """One service after ``up``: its status, and whether it was started or reused."""

    status: ServiceStatus
    started: bool
    start_s: float | None

    def line(self) -> str:
        how = f"started in {self.start_s:.1f} s" if self.started else "reused"
        return f"{self.status.line()}  ({how})"


class LocalStack:
    """The servers of the project, run as local processes under one state folder."""

    def __init__(self, settings: StackSettings | None = None) -> None:
        self.settings = settings or StackSettings()
        every = (*SERVICE_CLASSES, *(c for group in OPT_IN_GROUPS.values() for c in group))
        self.services = {cls.name: cls(self.settings) for cls in every}

    def select(self, names: Iterable[str] | None) -> list[LocalService]:
        """The named services (a group's name stands for its members); none named: the
        default servers."""
        chosen: list[str] = []
        for name in list(names) if names else SERVICE_NAMES:
            group = OPT_IN_GROUPS.get(name, ())
            chosen.extend([cls.name for cls in group] or [name])
        unknown = [name for name in chosen if name not in self.services]
        if unknown:
            choices = ", ".join(ALL_NAMES)
            raise StackError(f"unknown service {', '.join(unknown)}; choose from {choices}")
        return [self.services[name] for name in chosen]

    def up(self, names: Iterable[str] | None = None) -> list[UpResult]:
        """Start what is not running (all launched first, then waited on); reuse the rest."""
        chosen = self.select(names)
        launched = {}
        reused: dict[str, ServiceStatus] = {}
        for service in chosen:
            if service.running_process() is not None:
                reused[service.name] = service.status()
                continue
            service.install()
        for service in chosen:
            if service.name not in reused:
                launched[service.name] = (service.start(), time.monotonic())
        results = []
        for service in chosen:
            if service.name in reused:
                results.append(UpResult(reused[service.name], started=False, start_s=None))
                continue
            process, began = launched[service.name]
            detail = service.wait_healthy(process)
            status = ServiceStatus(service.name, service.address, True, detail, process.pid)
            results.append(UpResult(status, started=True, start_s=time.monotonic() - began))
        return results

    def status(self, names: Iterable[str] | None = None) -> list[ServiceStatus]:
        return [service.status() for service in self.select(names)]

    def down(self, names: Iterable[str] | None = None) -> dict[str, bool]:
        """Stop the recorded processes; map of service name to 'was running'.

        Without names: every default server, and the opt-in ones that are running."""
        chosen = self.select(names)
        if not names:
            opt_in = [self.services[name] for name in OPT_IN_NAMES]
            chosen += [service for service in opt_in if service.running_process() is not None]
        return {service.name: service.stop() for service in reversed(chosen)}
