"""The opt-in NATS cluster in the stack's service selection, and its nodes' configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.base import LocalService
from stack.errors import StackError
from stack.manager import SERVICE_NAMES, LocalStack
from stack.nats_cluster import client_urls
from stack.settings import StackSettings

NODES = ["nats-cluster-1", "nats-cluster-2", "nats-cluster-3"]


@pytest.fixture
def local(tmp_path: Path) -> LocalStack:
    return LocalStack(StackSettings(state_dir=tmp_path / "state"))


def names(services: list[LocalService]) -> list[str]:
    return [service.name for service in services]


def test_a_plain_up_leaves_the_cluster_out_and_naming_it_brings_its_three_nodes(
    local: LocalStack,
) -> None:
    assert names(local.select(None)) == list(SERVICE_NAMES)
    assert names(local.select(["nats-cluster"])) == NODES
    assert names(local.select(["nats", "nats-cluster-2"])) == ["nats", "nats-cluster-2"]


def test_an_unknown_name_lists_the_group_among_the_choices(local: LocalStack) -> None:
    with pytest.raises(StackError, match=r"choose from nats, .*postgres, docker, nats-cluster"):
        local.select(["nats-clutser"])


def test_nodes_route_to_each_other_on_their_own_ports(local: LocalStack, tmp_path: Path) -> None:
    node = local.services["nats-cluster-2"]
    node.service_dir.mkdir(parents=True)
    node.prepare()
    config = (node.service_dir / "nats.conf").read_text()
    assert 'server_name: "nats-cluster-2"' in config
    assert 'listen: "127.0.0.1:14223"' in config
    assert 'http: "127.0.0.1:18223"' in config
    assert "routes: [nats-route://127.0.0.1:16222, nats-route://127.0.0.1:16224]" in config
    assert node.ports() == [14223, 16223, 18223]
    assert client_urls(local.settings) == [f"nats://127.0.0.1:{p}" for p in (14222, 14223, 14224)]
