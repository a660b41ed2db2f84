"""Where the services of the platform are (environment: ``SMART_METER_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.subjects import DEFAULT_PARTITIONS


def default_cache_dir() -> Path:
    """Downloads shared between checkouts (server jars, Spark packages):
    ``$XDG_CACHE_HOME/smart-meter`` or ``~/.cache/smart-meter``; ``SMART_METER_CACHE_DIR``
    overrides it where a setting reads it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smart-meter"


class ConnectionSettings(BaseSettings):
    """Addresses of NATS, Cassandra, Kafka and InfluxDB, and the shared names on them."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_", frozen=True, extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server URL")
    cassandra_hosts: tuple[str, ...] = Field(default=("127.0.0.1",), description="CQL contacts")
    cassandra_port: int = 9042
    cassandra_keyspace: str = "smart_meter"
    cassandra_replication: int = Field(default=1, description="replication factor")
    kafka_bootstrap: str = "127.0.0.1:9092"
    influxdb_url: str = "http://127.0.0.1:8086"
    influxdb_database: str = "smart_meter"
    partitions: int = Field(default=DEFAULT_PARTITIONS, description="reading subject partitions")
