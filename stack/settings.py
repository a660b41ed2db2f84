"""Where the local stack lives and which ports it uses (environment: ``SMART_METER_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.settings import ConnectionSettings, default_cache_dir

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class StackSettings(BaseSettings):
    """Settings of the local stack. Every field reads ``SMART_METER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_", frozen=True)

    state_dir: Path = Field(
        default=PROJECT_ROOT / ".state", description="data, logs and pid records of each server"
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="downloaded jars and binaries, shared between checkouts",
    )
    host: str = Field(default="127.0.0.1", description="loopback address every server binds")
    nats_port: int = 4222
    nats_monitor_port: int = 8222
    nats_cluster_client_port: int = Field(
        default=14222, description="the opt-in 3-node cluster: node i listens on this + i - 1"
    )
    nats_cluster_route_port: int = Field(default=16222, description="its routes, likewise")
    nats_cluster_monitor_port: int = Field(default=18222, description="its monitoring, likewise")
    cassandra_port: int = 9042
    cassandra_storage_port: int = 7000
    cassandra_heap_mb: int = Field(default=1024, description="Cassandra max heap (MiB)")
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap_mb: int = 512
    influxdb_port: int = 8086
    influxdb_rpc_port: int = 8088
    influxdb_version: str = Field(
        default="1.13.2",
        description="InfluxDB built with `go install`; 1.9+ also need cargo and cc, 1.8.10 only Go",
    )
    postgres_port: int = Field(default=5432, description="PostgreSQL of the reporting mart")
    postgres_bin_dir: Path = Field(
        default=Path("/usr/lib/postgresql/15/bin"),
        description="initdb and postgres of Debian's postgresql-15 (installed with apt if missing)",
    )

    @property
    def docker_socket(self) -> Path:
        """The unix socket of the project's own Docker engine (``up docker``)."""
        return self.state_dir / "docker" / "docker.sock"

    @property
    def docker_host(self) -> str:
        """``DOCKER_HOST`` of the project's own engine, for the Docker SDK and CLI."""
        return f"unix://{self.docker_socket}"

    @property
    def secrets_dir(self) -> Path:
        """Generated credentials (git-ignored with the state folder, mode 0700)."""
        return self.state_dir / "secrets"

    @property
    def postgres_password_file(self) -> Path:
        """The generated password of the mart's role, written on the first ``up``."""
        return self.secrets_dir / "postgres_password"


def connections_for(stack: StackSettings, **overrides: object) -> ConnectionSettings:
    """The addresses of a local stack started with ``stack``."""
    values: dict[str, object] = {
        "nats_url": f"nats://{stack.host}:{stack.nats_port}",
        "cassandra_hosts": (stack.host,),
        "cassandra_port": stack.cassandra_port,
        "kafka_bootstrap": f"{stack.host}:{stack.kafka_port}",
        "influxdb_url": f"http://{stack.host}:{stack.influxdb_port}",
        "postgres_host": stack.host,
        "postgres_port": stack.postgres_port,
        "postgres_password_file": stack.postgres_password_file,
    }
    values.update(overrides)
    return ConnectionSettings.model_validate(values)
