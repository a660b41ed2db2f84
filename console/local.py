"""The local backend: each replica is a ``python -m <module>`` process on this machine.

Records and logs live under ``<state_dir>/services`` (:mod:`console.records`), so a new
console finds the replicas an earlier one started. Injector replicas are restarted
together whenever their count changes, each with ``--replica i --replicas n``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.parse

import psutil

from console.backend import ServiceRow
from console.catalogue import (
    SERVICES,
    ServiceKind,
    app_environment,
    inject_plan,
    replica_args,
    service_args,
)
from console.errors import BackendUnreachableError
from console.records import ReplicaRecord, ServiceFolder, Wanted
from console.settings import ConsoleSettings
from smart_meter.settings import ConnectionSettings
from stack.base import port_is_open, reap_group, tail, wait_for_exit
from stack.errors import StackError
from stack.manager import LocalStack
from stack.settings import PROJECT_ROOT

NEEDED_SERVERS = ("nats", "cassandra", "influxdb")


class LocalBackend:
    """Services as processes, found again through their pid records."""

    name = "local"

    def __init__(self, settings: ConsoleSettings | None = None) -> None:
        self.settings = settings or ConsoleSettings()
        self.services_dir = self.settings.services_path()

    def folder(self, kind: ServiceKind) -> ServiceFolder:
        return ServiceFolder(self.services_dir, kind.name)

    # ---- the verbs ------------------------------------------------------------------
    def up(self) -> list[str]:
        try:
            results = LocalStack().up((*NEEDED_SERVERS, "kafka"))
        except StackError as error:
            raise BackendUnreachableError(f"the local stack did not start: {error}") from None
        return [result.line() for result in results]

    def run(self, kind: ServiceKind, replicas: int, options: dict[str, object]) -> None:
        self.require_nats()
        self.stop_replicas(kind, keep=0)
        self.folder(kind).want(Wanted(replicas, options))
        self.start_missing(kind, restart_all=True)

    def scale(self, kind: ServiceKind, replicas: int) -> None:
        folder = self.folder(kind)
        wanted = folder.wanted()
        if replicas:
            self.require_nats()
        folder.want(Wanted(replicas, wanted.options))
        if kind.name == "inject" and replicas != len(self.running(kind)):
            self.stop_replicas(kind, keep=0)  # every slice changes with the count
        else:
            self.stop_replicas(kind, keep=replicas)
        self.start_missing(kind, restart_all=False)

    def stop(self, kind: ServiceKind) -> bool:
        was_running = bool(self.running(kind))
        self.folder(kind).want(Wanted(0, self.folder(kind).wanted().options))
        self.stop_replicas(kind, keep=0)
        return was_running

    def stop_all(self) -> list[str]:
        order = ("inject", "kafka-bridge", "streaming-app")  # producers first
        return [
            f"{name:<14} {'stopped' if self.stop(SERVICES[name]) else 'was not running'}"
            for name in order
        ]

    def rows(self) -> list[ServiceRow]:
        return [self.row(kind) for kind in SERVICES.values()]

    def logs(self, kind: ServiceKind, lines: int) -> str:
        folder = self.folder(kind)
        logs = sorted(folder.path.glob("replica-*.log"))
        if not logs:
            return f"{kind.name}: no logs yet"
        return "\n".join(f"== {log.name}\n{tail(log, lines)}" for log in logs)

    def down(self) -> list[str]:
        lines = self.stop_all()
        for name, was_running in LocalStack().down().items():
            lines.append(f"{name:<14} {'stopped' if was_running else 'was not running'}")
        return lines

    # ---- processes ------------------------------------------------------------------
    def running(self, kind: ServiceKind) -> list[ReplicaRecord]:
        return [record for record in self.folder(kind).records() if record.process()]

    def row(self, kind: ServiceKind) -> ServiceRow:
        wanted = self.folder(kind).wanted().replicas
        records = self.folder(kind).records()
        running = [record for record in records if record.process()]
        exited = sorted(record.replica for record in records if not record.process())
        if wanted == len(running) and not exited:
            health = "ok" if wanted else "stopped"
        elif exited:
            health = f"replica {', '.join(map(str, exited))} exited: see logs"
        else:
            health = f"{len(running)} of {wanted} running"
        return ServiceRow(kind.name, wanted, len(running), health)

    def start_missing(self, kind: ServiceKind, restart_all: bool) -> None:
        folder = self.folder(kind)
        wanted = folder.wanted()
        options = dict(wanted.options)
        if kind.name == "inject":
            options = inject_plan(options).started(time.time()).to_json()
            folder.want(Wanted(wanted.replicas, options))
        present = {record.replica for record in self.running(kind)}
        stream, prefix = self.settings.stream, self.settings.subject_prefix
        common = service_args(kind, options, wanted.replicas, stream, prefix)
        for replica in range(wanted.replicas):
            if replica in present and not restart_all:
                continue
            argv = [sys.executable, "-m", kind.module, *common, *replica_args(kind, replica)]
            folder.save(self.launch(kind, folder, replica, wanted.replicas, argv, options))

    def launch(
        self,
        kind: ServiceKind,
        folder: ServiceFolder,
        replica: int,
        replicas: int,
        argv: list[str],
        options: dict[str, object],
    ) -> ReplicaRecord:
        folder.path.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **app_environment(kind, self.settings.stream, self.settings.subject_prefix),
        }
        env.pop("SMART_METER_INJECT_TASK_SLOT", None)
        with folder.log(replica).open("ab") as log:
            popen = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_ROOT,
                env=env,
                start_new_session=True,
            )
        created = psutil.Process(popen.pid).create_time()
        return ReplicaRecord(popen.pid, created, replica, replicas, argv, options)

    def stop_replicas(self, kind: ServiceKind, keep: int) -> None:
        """Stop every replica whose index is ``keep`` or more (SIGTERM, then SIGKILL)."""
        folder = self.folder(kind)
        for record in reversed(folder.records()):
            if record.replica < keep:
                continue
            process = record.process()
            if process is not None:
                self.terminate(process)
            folder.forget(record.replica)

    def terminate(self, process: psutil.Process) -> None:
        group = process.pid  # each replica leads its own session and group
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not wait_for_exit(process, timeout_s=self.settings.stop_timeout_s):
            os.killpg(group, signal.SIGKILL)
            wait_for_exit(process, timeout_s=10)
        reap_group(group)

    def require_nats(self) -> None:
        url = ConnectionSettings().nats_url.split(",")[0].strip()
        address = urllib.parse.urlsplit(url)
        if not port_is_open(address.hostname or "127.0.0.1", address.port or 4222, 2.0):
            raise BackendUnreachableError(
                f"cannot reach NATS at {url}: start the servers with `python start_services.py up`"
            )
