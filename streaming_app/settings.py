"""The streaming app's runtime settings: one frozen object, from a file and the environment.

Precedence, highest first: keyword arguments (the CLI), environment variables
``SMART_METER_APP_*`` (e.g. ``SMART_METER_APP_FETCH_BATCH=512``,
``SMART_METER_APP_PARTITIONS=0,1,2``), a TOML or JSON file (``--config`` or
``SMART_METER_APP_CONFIG_FILE``), the defaults below. Rule parameters come from the
preset (:mod:`streaming_app.validation`, itself overridable with
``SMART_METER_VALIDATION_*``). Where NATS, Cassandra and InfluxDB are, and how many
partitions the readings subjects have, is :class:`smart_meter.settings.ConnectionSettings`.
"""

from __future__ import annotations

import json
import os
import re
import socket
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM, ReadingsDestination
from streaming_app.validation import PRESETS, ValidationSettings

CONFIG_FILE_ENV = "SMART_METER_APP_CONFIG_FILE"
CassandraClient = Literal["acsylla", "driver"]
_config_file: ContextVar[Path | None] = ContextVar("_config_file", default=None)
_NAME = r"^[A-Za-z0-9_-]+$"  # safe as a KV key token, consumer name and bucket name


def default_replica_id() -> str:
    """Host name and process id, reduced to characters valid in KV keys."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:40]
    return f"{host}-{os.getpid()}"


class AppSettings(BaseSettings):
    """How one replica of the streaming app runs."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_APP_", frozen=True, extra="forbid")

    preset: Literal["demo", "prod"] = Field(default="prod", description="rule parameter preset")
    replica_id: str = Field(default_factory=default_replica_id, pattern=_NAME, max_length=64)
    partitions: Literal["auto"] | tuple[int, ...] = Field(
        default="auto", description='"auto" (fair share of all) or the partitions to own'
    )
    stream: str = Field(default=READINGS_STREAM, description="JetStream stream of readings")
    subject_prefix: str = Field(default=READINGS_PREFIX, description="readings on <prefix>.<p>")
    durable_prefix: str = Field(default="app", pattern=_NAME, description="durable <prefix>-p<p>")
    deliver_all: bool = Field(default=True, description="new durable: from the start")
    fetch_batch: int = Field(
        default=1024, ge=1, le=10_000, description="most messages a fetch; = max_ack_pending"
    )
    fetch_readings: int = Field(
        default=10_000,
        ge=1,
        description=(
            "readings a fetch aims at (messages: this / readings a message lately); what an"
            " app holds in catch-up is about partitions x this x 5 KB"
        ),
    )
    fetch_timeout_s: float = Field(default=1.0, gt=0)
    ack_wait_s: float = Field(default=30.0, gt=0, description="redelivery after this un-acked")
    max_in_flight_batches: int = Field(default=4, ge=1, description="batches committing at once")
    state_bucket: str = Field(default="app_state", pattern=_NAME)
    state_replicas: int = Field(default=1, ge=1, le=5)
    state_save_concurrency: int = Field(default=256, ge=1, description="KV puts in flight")
    coord_bucket: str = Field(default="app_coord", pattern=_NAME, description="leases, members")
    lease_ttl_s: float = Field(
        default=30.0, gt=0, description="a lease not renewed expires (failover takes this long)"
    )
    renew_interval_s: float = Field(default=2.0, gt=0)
    backoff_initial_s: float = Field(default=0.1, gt=0)
    backoff_max_s: float = Field(default=5.0, gt=0)
    backoff_give_up_s: float | None = Field(default=None, description="crash after; None: never")
    gc_young_threshold: int = Field(
        default=50_000,
        ge=0,
        description="net allocations between young collections (0: Python's 700, and no freeze)",
    )
    evict_interval_s: float = Field(default=60.0, gt=0, description="idle meter eviction period")
    idle_exit_s: float | None = Field(default=None, description="exit after this long idle")
    publish_findings: bool = Field(
        default=False, description="audit trail: every finding on meter.findings.<type>"
    )
    cassandra_client: CassandraClient = Field(
        default="acsylla",
        description="the Cassandra sink's client: acsylla (the DataStax C++ driver) or "
        "cassandra-driver; the same rows either way",
    )

    @field_validator("partitions", mode="before")
    @classmethod
    def _parse_partitions(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() != "auto":
            return tuple(int(part) for part in value.split(",") if part.strip())
        if isinstance(value, int):
            return (value,)
        return value

    @model_validator(mode="after")
    def _renew_well_inside_ttl(self) -> AppSettings:
        if self.renew_interval_s * 3 > self.lease_ttl_s:
            raise ValueError("renew_interval_s must be at most a third of lease_ttl_s")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_file.get() or _env_config_file()
        if path is None:
            return init_settings, env_settings
        return init_settings, env_settings, InitSettingsSource(settings_cls, read_config(path))

    def validation(self) -> ValidationSettings:
        """The rule set of the preset (with any ``SMART_METER_VALIDATION_*`` overrides)."""
        return PRESETS[self.preset]()

    @property
    def destination(self) -> ReadingsDestination:
        """The stream and subjects this app reads."""
        return ReadingsDestination(self.stream, self.subject_prefix)

    def subject(self, partition: int) -> str:
        return self.destination.subject(partition)

    def durable(self, partition: int) -> str:
        return f"{self.durable_prefix}-p{partition}"


def _env_config_file() -> Path | None:
    value = os.environ.get(CONFIG_FILE_ENV)
    return Path(value) if value else None


def read_config(path: Path) -> dict[str, Any]:
    """The settings in a TOML (``[app]`` table or top level) or JSON file."""
    text = path.read_text()
    data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a table of settings")
    section = data.get("app", data)
    if not isinstance(section, dict):
        raise ValueError(f"{path}: [app] must be a table")
    return section


@contextmanager
def _reading(path: Path | None) -> Iterator[None]:
    token = _config_file.set(path)
    try:
        yield
    finally:
        _config_file.reset(token)


def load_settings(config_file: Path | None = None, **overrides: Any) -> AppSettings:
    """Settings from ``overrides`` > environment > ``config_file`` > defaults."""
    given = {name: value for name, value in overrides.items() if value is not None}
    with _reading(config_file):
        return AppSettings(**given)
