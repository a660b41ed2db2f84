"""Where the services of the platform are (environment: ``SMART_METER_*``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.subjects import DEFAULT_PARTITIONS


def default_cache_dir() -> Path:
    """Downloads shared between checkouts (server jars, Spark packages):
    ``$XDG_CACHE_HOME/smart-meter`` or ``~/.cache/smart-meter``; ``SMART_METER_CACHE_DIR``
    overrides it where a setting reads it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smart-meter"


class PostgresPasswordError(ValueError):
    """No usable password for the reporting mart's PostgreSQL role; says how to give one."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"PostgreSQL password {problem}: set SMART_METER_POSTGRES_PASSWORD, or "
            "SMART_METER_POSTGRES_PASSWORD_FILE to a file holding it (the local stack writes "
            "one to .state/secrets/postgres_password on `python start_services.py up postgres`)"
        )


class ConnectionSettings(BaseSettings):
    """Addresses of NATS, Cassandra, Kafka, InfluxDB and PostgreSQL, and the names on them."""

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
    postgres_host: str = Field(default="127.0.0.1", description="PostgreSQL of the mart")
    postgres_port: int = 5432
    postgres_database: str = "smart_meter_mart"
    postgres_user: str = "smart_meter"
    postgres_password: SecretStr | None = Field(
        default=None, description="the role's password; wins over postgres_password_file"
    )
    postgres_password_file: Path | None = Field(
        default=None, description="a file whose content (one line) is the role's password"
    )

    @property
    def postgres_address(self) -> str:
        return f"{self.postgres_host}:{self.postgres_port}"

    def postgres_password_value(self) -> str:
        """The mart role's password; :class:`PostgresPasswordError` if missing or empty."""
        if self.postgres_password is not None:
            password = self.postgres_password.get_secret_value()
            if not password:
                raise PostgresPasswordError("is empty (SMART_METER_POSTGRES_PASSWORD)")
            return password
        path = self.postgres_password_file
        if path is None:
            raise PostgresPasswordError("is not set")
        try:
            password = path.read_text().strip()
        except OSError as error:
            raise PostgresPasswordError(f"file {path} cannot be read ({error.strerror})") from None
        if not password:
            raise PostgresPasswordError(f"file {path} is empty")
        return password
