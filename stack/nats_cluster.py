"""Three local nats-server nodes with JetStream, clustered over loopback routes (opt-in).

``python start_services.py up nats-cluster`` starts them beside the single-node NATS of the
default stack, on their own ports and state folders: node ``i`` (1..3) listens for clients
on ``nats_cluster_client_port + i - 1``, for routes on ``nats_cluster_route_port + i - 1``
and serves monitoring on ``nats_cluster_monitor_port + i - 1`` (14222-14224, 16222-16224,
18222-18224 by default). Clients name every node:
``SMART_METER_NATS_URL=nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224``,
and ``SMART_METER_STREAMS_REPLICAS=3`` gives every stream and bucket a copy on each node.
Routes carry no credentials: the cluster listens on loopback only.
"""

from __future__ import annotations

import json
import urllib.request
from typing import ClassVar

from stack.base import LocalService
from stack.errors import StackError
from stack.nats import nats_server_binary
from stack.settings import StackSettings

CLUSTER_NAME = "smart-meter"
NODES = 3


def client_urls(settings: StackSettings) -> list[str]:
    """The client URL of every node (what ``SMART_METER_NATS_URL`` lists, comma-separated)."""
    return [f"nats://{settings.host}:{settings.nats_cluster_client_port + i}" for i in range(NODES)]


class NatsClusterNode(LocalService):
    """One node of the local cluster; :attr:`index` is 1, 2 or 3."""

    index: ClassVar[int]
    start_timeout_s = 60.0

    @property
    def client_port(self) -> int:
        return self.settings.nats_cluster_client_port + self.index - 1

    @property
    def route_port(self) -> int:
        return self.settings.nats_cluster_route_port + self.index - 1

    @property
    def monitor_port(self) -> int:
        return self.settings.nats_cluster_monitor_port + self.index - 1

    def ports(self) -> list[int]:
        return [self.client_port, self.route_port, self.monitor_port]

    def install(self) -> None:
        nats_server_binary()

    def prepare(self) -> None:
        routes = ", ".join(
            f"nats-route://{self.host}:{self.settings.nats_cluster_route_port + i}"
            for i in range(NODES)
            if i != self.index - 1
        )
        config = "\n".join(
            [
                f'server_name: "{self.name}"',
                f'listen: "{self.host}:{self.client_port}"',
                f'http: "{self.host}:{self.monitor_port}"',
                "max_payload: 8MB",
                "jetstream {",
                f'  store_dir: "{self.data_dir}"',
                "  max_memory_store: 256MB",
                "  max_file_store: 8GB",
                "}",
                "cluster {",
                f'  name: "{CLUSTER_NAME}"',
                f'  listen: "{self.host}:{self.route_port}"',
                f"  routes: [{routes}]",
                "}",
                "",
            ]
        )
        (self.service_dir / "nats.conf").write_text(config)

    def command(self) -> list[str]:
        return [nats_server_binary(), "-c", str(self.service_dir / "nats.conf")]

    def check_health(self) -> str:
        """Healthy once the node's JetStream is current with an elected meta leader."""
        base = f"http://{self.host}:{self.monitor_port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as reply:
            health = json.load(reply)
        if health.get("status") != "ok":
            raise StackError(f"{self.name}: not ready: {health}")
        with urllib.request.urlopen(f"{base}/jsz", timeout=2) as reply:
            jsz = json.load(reply)
        leader = (jsz.get("meta_cluster") or {}).get("leader")
        if not leader:
            raise StackError(f"{self.name}: no JetStream meta leader yet")
        return f"cluster {CLUSTER_NAME}, meta leader {leader}"


class NatsClusterNode1(NatsClusterNode):
    name = "nats-cluster-1"
    index = 1


class NatsClusterNode2(NatsClusterNode):
    name = "nats-cluster-2"
    index = 2


class NatsClusterNode3(NatsClusterNode):
    name = "nats-cluster-3"
    index = 3


NODE_CLASSES: tuple[type[NatsClusterNode], ...] = (
    NatsClusterNode1,
    NatsClusterNode2,
    NatsClusterNode3,
)
