"""Where the services of the platform are (environment: ``SMART_METER_*``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.credentials import (
    Credentials,
    CredentialsError,
    read_credentials,
    refuse_to_start,
)
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


def nats_servers(url: str) -> list[str]:
    """The URLs of a comma-separated list (one URL is a list of one)."""
    return [part.strip() for part in url.split(",") if part.strip()]


def nats_connect_options(url: str, credentials: Credentials | None) -> dict[str, Any]:
    """Keyword arguments of ``nats.connect``: the servers and, if set, the credentials."""
    options: dict[str, Any] = {"servers": nats_servers(url)}
    if credentials is not None:
        options.update(user=credentials.username, password=credentials.password)
    return options


class ConnectionSettings(BaseSettings):
    """Addresses of NATS, Cassandra, Kafka, InfluxDB and PostgreSQL, and the names on them."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_", frozen=True, extra="ignore")

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS server URL, or several separated by commas (the nodes of a cluster)",
    )
    nats_username: str | None = None
    nats_password_file: Path | None = Field(default=None, description="file holding the password")
    cassandra_hosts: tuple[str, ...] = Field(default=("127.0.0.1",), description="CQL contacts")
    cassandra_port: int = 9042
    cassandra_keyspace: str = "smart_meter"
    cassandra_replication: int = Field(default=1, description="replication factor")
    cassandra_username: str | None = None
    cassandra_password_file: Path | None = None
    kafka_bootstrap: str = "127.0.0.1:9092"
    influxdb_url: str = "http://127.0.0.1:8086"
    influxdb_database: str = "smart_meter"
    influxdb_username: str | None = None
    influxdb_password_file: Path | None = None
    partitions: int = Field(default=DEFAULT_PARTITIONS, description="reading subject partitions")
    postgres_host: str = Field(default="127.0.0.1", description="PostgreSQL of the mart")
    postgres_port: int = 5432
    postgres_database: str = "smart_meter_mart"
    postgres_user: str = Field(
        default="smart_meter",
        validation_alias=AliasChoices(
            "postgres_user", "SMART_METER_POSTGRES_USERNAME", "SMART_METER_POSTGRES_USER"
        ),
    )
    postgres_password: SecretStr | None = Field(
        default=None, description="the role's password; wins over postgres_password_file"
    )
    postgres_password_file: Path | None = Field(
        default=None, description="a file whose content (one line) is the role's password"
    )

    @property
    def nats_servers(self) -> list[str]:
        """The NATS URLs of ``nats_url`` (a comma-separated list names a cluster's nodes)."""
        return nats_servers(self.nats_url)

    def nats_connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``nats.connect``: the servers and, if set, the credentials."""
        return nats_connect_options(self.nats_url, self.nats_credentials())

    def nats_credentials(self) -> Credentials | None:
        return read_credentials("nats", self.nats_username, self.nats_password_file)

    def cassandra_credentials(self) -> Credentials | None:
        return read_credentials("cassandra", self.cassandra_username, self.cassandra_password_file)

    def influxdb_credentials(self) -> Credentials | None:
        return read_credentials("influxdb", self.influxdb_username, self.influxdb_password_file)

    def check_credentials(self) -> None:
        """Raise :class:`CredentialsError` (one line) for any half-set, empty or unreadable
        credential; a service calls it at start-up. The mart's PostgreSQL password is checked
        here when a file is given (it is always required where the mart is used)."""
        self.nats_credentials()
        self.cassandra_credentials()
        self.influxdb_credentials()
        if self.postgres_password_file is not None:
            try:
                self.postgres_password_value()
            except PostgresPasswordError as error:
                raise CredentialsError("postgres", error.problem) from None

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


def checked_connections(**overrides: Any) -> ConnectionSettings:
    """The connection settings from the environment, every credential checked: on a bad
    one, print one line and exit 2 (what each service does at start-up)."""
    connections = ConnectionSettings(**overrides)
    try:
        connections.check_credentials()
    except CredentialsError as error:
        refuse_to_start(error)
    return connections
