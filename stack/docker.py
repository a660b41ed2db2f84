"""The project's own Docker engine: Debian's ``docker.io`` run as ``dockerd --iptables=false``.

Opt-in (``python start_services.py up docker``): it is not part of the default ``up``, and
a plain ``down`` stops it when it runs. Everything of the engine lives under
``<state>/docker``: data root, exec root (with the containerd that dockerd starts), pid
file, ``daemon.json`` and the unix socket ``docker.sock``. It never uses
``/var/run/docker.sock``, so it cannot clash with another engine on the machine; clients
reach it through :attr:`StackSettings.docker_host` (``DOCKER_HOST=unix://…``).

Without iptables there is no ingress mesh and no VIPs: Swarm services here publish ports
in ``mode: host`` and use ``endpoint_mode: dnsrr`` (see ``swarm/stack.yml``). The engine
has no default bridge (``--bridge=none``, so a second engine on the machine never fights
over ``docker0``): containers run on the host network or on networks of their own
(Compose and Swarm make those), and image builds use the host network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import docker
import psutil

from stack.base import LocalService, run_checked, tail
from stack.errors import StackError

APT_PACKAGES = ("docker.io", "mmdebstrap", "docker-compose")
"""The engine, the base-image maker, and Compose v1 (checks ``compose/docker-compose.yml``)."""
COMMANDS = ("dockerd", "mmdebstrap", "docker-compose")


def install_with_apt(service: str, packages: tuple[str, ...]) -> None:
    """``apt-get update`` once, then install ``packages`` without recommends."""
    listed = " ".join(packages)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(
            f"{service}: missing {listed}; install them with "
            f"`sudo apt-get install -y --no-install-recommends {listed}` (Debian 12)"
        )
    apt = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=600"]
    run_checked([*apt, "update"], f"{service}: apt-get update")
    run_checked(
        [*apt, "install", "-y", "--no-install-recommends", *packages],
        f"{service}: apt-get install {listed}",
    )


class DockerService(LocalService):
    """dockerd (and its containerd) with every file under ``<state>/docker``."""

    name = "docker"
    start_timeout_s = 180.0
    stop_timeout_s = 120.0

    def ports(self) -> list[int]:
        return []

    @property
    def address(self) -> str:
        return self.settings.docker_host

    @property
    def socket_path(self) -> Path:
        return self.settings.docker_socket

    @property
    def exec_root(self) -> Path:
        return self.service_dir / "exec"

    def install(self) -> None:
        if any(shutil.which(command) is None for command in COMMANDS):
            install_with_apt(self.name, APT_PACKAGES)

    def prepare(self) -> None:
        self.exec_root.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        (self.service_dir / "daemon.json").write_text(json.dumps({}) + "\n")

    def command(self) -> list[str]:
        dockerd = shutil.which("dockerd") or "dockerd"
        return [
            dockerd,
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            f"--config-file={self.service_dir / 'daemon.json'}",
            f"--data-root={self.data_dir}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.service_dir / 'dockerd.pid'}",
            f"--host={self.settings.docker_host}",
        ]

    def listening(self) -> bool:
        return self.socket_path.exists()

    def client(self, timeout_s: int = 10) -> docker.DockerClient:
        """A Docker SDK client of this engine."""
        return docker.DockerClient(base_url=self.settings.docker_host, timeout=timeout_s)

    def check_health(self) -> str:
        client = self.client()
        try:
            if not client.ping():
                raise StackError("docker: the engine did not answer ping")
            info = client.info()
        finally:
            client.close()
        swarm = info.get("Swarm", {}).get("LocalNodeState", "inactive")
        return f"dockerd {info['ServerVersion']}, {info['Driver']}, swarm {swarm}"

    def stop(self) -> bool:
        """Stop dockerd (it stops its containers and containerd), then reap what is left."""
        was_running = super().stop()
        leftovers = self.leftover_processes()
        for process in leftovers:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(leftovers, timeout=30)
        self.socket_path.unlink(missing_ok=True)
        return was_running or bool(leftovers)

    def leftover_processes(self) -> list[psutil.Process]:
        """containerd and shims of this engine: processes whose argv names its folder."""
        folder = str(self.service_dir)
        found = []
        for process in psutil.process_iter(["cmdline"]):
            argv = process.info.get("cmdline") or []
            if any(folder in part for part in argv):
                found.append(process)
        return found

    def log_tail(self) -> str:
        return tail(self.log_file)
