"""Settings of the console (environment: ``SMART_METER_CONSOLE_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM
from stack.settings import StackSettings


class ConsoleSettings(BaseSettings):
    """Where the console keeps its records and which names its deployment uses."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_CONSOLE_", frozen=True)

    services_dir: Path | None = Field(
        default=None, description="pid records and logs (default: <state_dir>/services)"
    )
    stream: str = Field(default=READINGS_STREAM, description="readings stream of the services")
    subject_prefix: str = Field(default=READINGS_PREFIX, description="readings subjects prefix")
    swarm_prefix: str = Field(
        default="smart-meter", pattern=r"^[a-z][a-z0-9-]{0,30}$", description="swarm names"
    )
    docker_host: str | None = Field(
        default=None, description="Docker engine URL (default: the project's own engine)"
    )
    swarm_nats_port: int = Field(default=14222, description="the swarm NATS's client port")
    swarm_nats_monitor_port: int = Field(default=18222, description="its monitoring port")
    swarm_listen_port: int = Field(default=2377, description="swarm init: the manager's port")
    swarm_data_path_port: int = Field(default=4789, description="swarm init: VXLAN UDP port")
    stop_timeout_s: float = Field(default=60.0, gt=0, description="SIGTERM, then SIGKILL")

    def services_path(self) -> Path:
        return self.services_dir or StackSettings().state_dir / "services"

    def docker_url(self) -> str:
        """The project's own engine (``start_services.py up docker``) unless set."""
        if self.docker_host:
            return self.docker_host
        return f"unix://{StackSettings().state_dir / 'docker' / 'docker.sock'}"

    def swarm_password_file(self) -> Path:
        """The swarm NATS's generated password (git-ignored, mode 0600), also a secret."""
        return StackSettings().secrets_dir / f"{self.swarm_prefix}-nats-password"
