"""What the swarm backend deploys: names, labels, images, the NATS config, environments.

Services run on the host network (this machine has no iptables for ingress or VIPs), so
the console's own NATS listens on ports of its own beside the local stack's.
"""

from __future__ import annotations

import os

from console.catalogue import ServiceKind
from console.errors import BackendUnreachableError
from smart_meter.settings import ConnectionSettings

LABEL = "smart-meter.console"
KIND_LABEL = "smart-meter.service"
OPTIONS_LABEL = "smart-meter.options"
NATS_PASSWORD_PATH = "/run/secrets/nats_password"  # noqa: S105 - a path, not a password
NATS_CONFIG_PATH = "/home/smart-meter/console-nats.conf"  # beside the entrypoint's auth file
NATS_STORE_DIR = "/home/smart-meter/jetstream"  # the server's user owns its home
PASSED_PREFIXES = (
    "SMART_METER_APP_",
    "SMART_METER_VALIDATION_",
    "SMART_METER_CASSANDRA_",
    "SMART_METER_INFLUXDB_",
    "SMART_METER_PARTITIONS",
    "SMART_METER_STREAMS_REPLICAS",
)


def nats_auth_supported() -> bool:
    """True once the core's clients take a NATS username and password file."""
    return "nats_username" in ConnectionSettings.model_fields


def nats_config(host: str, port: int, monitor_port: int) -> str:
    """The console NATS's configuration (a Docker config); the credentials stay in a
    secret, which the image's entrypoint turns into ``nats-auth.conf``."""
    lines = [
        f'listen: "{host}:{port}"',
        f'http: "{host}:{monitor_port}"',
        f'jetstream {{ store_dir: "{NATS_STORE_DIR}" }}',
    ]
    if nats_auth_supported():
        lines.append('include "nats-auth.conf"')
    return "\n".join(lines) + "\n"


def pinned_image(tags: list[str], repository: str) -> str:
    """The content-digest tag of an image (``smart-meter/<name>:<digest>``), not ``latest``."""
    pinned = [
        tag for tag in tags if tag.startswith(f"{repository}:") and not tag.endswith(":latest")
    ]
    if not pinned:
        raise BackendUnreachableError(
            f"image {repository} has no content tag: build it with `python -m stack.images`"
        )
    return sorted(pinned)[0]


def passed_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's settings a service container needs (keyspace, database, app names)."""
    source = os.environ if environ is None else environ
    return {key: value for key, value in source.items() if key.startswith(PASSED_PREFIXES)}


def client_environment(nats_url: str) -> dict[str, str]:
    """How a service container reaches the console's NATS; the local stack's Cassandra
    and InfluxDB are unauthenticated on loopback, so only NATS needs a secret."""
    env = {
        "SMART_METER_NATS_URL": nats_url,
        "SMART_METER_NATS_PASSWORD_FILE": NATS_PASSWORD_PATH,
        "SMART_METER_REQUIRED_SECRETS": "NATS",
    }
    if nats_auth_supported():
        env["SMART_METER_NATS_USERNAME"] = "smart_meter"
    return env


def service_name(prefix: str, kind: ServiceKind | str) -> str:
    return f"{prefix}-{kind if isinstance(kind, str) else kind.name}"


def env_list(env: dict[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(env.items())]
