"""Settings of the bridge (environment: ``SMART_METER_BRIDGE_*``; the CLI overrides them)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.subjects import KAFKA_READINGS_TOPIC

KAFKA_SOURCE_TOPIC = "meter-readings-in"


class BridgeSettings(BaseSettings):
    """What one bridge process moves, and how much it holds in flight."""

    model_config = SettingsConfigDict(env_prefix="SMART_METER_BRIDGE_", frozen=True)

    durable: str = Field(
        default="kafka-bridge",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream durable consumer name (nats-to-kafka) or Kafka group id",
    )
    topic: str | None = Field(
        default=None,
        description=f"Kafka topic; default {KAFKA_READINGS_TOPIC!r} (nats-to-kafka) "
        f"or {KAFKA_SOURCE_TOPIC!r} (kafka-to-nats)",
    )
    batch: int = Field(
        default=256,
        ge=1,
        le=10_000,
        description="messages per fetch and ack (NATS→Kafka: also max_ack_pending) "
        "or per Kafka commit (Kafka→NATS)",
    )
    ack_wait_s: float = Field(
        default=30.0, gt=0, description="JetStream ack wait; Kafka waits beyond it send +WPI"
    )
    start_seq: int | None = Field(
        default=None,
        ge=1,
        description="stream sequence a new durable starts at (default: the stream's start)",
    )
    filter_subjects: tuple[str, ...] = Field(
        default=(), description="subjects of the readings stream to mirror (default: all)"
    )
    fetch_timeout_s: float = Field(default=1.0, gt=0, description="longest idle fetch or poll")
    stop_grace_s: float = Field(
        default=10.0, ge=0, description="at SIGTERM, how long to wait for Kafka to confirm"
    )
    instance_id: str | None = Field(
        default=None,
        description="Kafka→NATS: static group membership id; a restarted bridge with the "
        "same id gets its partitions back at once instead of after the session timeout",
    )
    readings_per_message: int = Field(
        default=100, ge=1, description="Kafka→NATS: most readings per JetStream message"
    )

    def kafka_topic(self, default: str) -> str:
        """The configured topic, or the direction's default."""
        return self.topic or default
