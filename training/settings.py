"""How the training jobs run (environment: ``SMART_METER_TRAINING_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.settings import default_cache_dir
from smart_meter.spark.session import CONNECTOR_PACKAGE


def default_model_dir() -> Path:
    return Path.home() / ".local" / "share" / "smart-meter" / "models"


class TrainingSettings(BaseSettings):
    """Where Spark runs, where models live, and what an event and a horizon are."""

    model_config = SettingsConfigDict(
        env_prefix="SMART_METER_TRAINING_", frozen=True, extra="ignore", populate_by_name=True
    )

    master: str = Field(
        default="local[2]", description="Spark master: local[N], or spark://host:7077"
    )
    driver_memory: str = Field(default="4g", description="Spark driver memory (local mode: all)")
    shuffle_partitions: int = Field(default=8, ge=1, description="spark.sql.shuffle.partitions")
    connector_package: str = Field(default=CONNECTOR_PACKAGE, description="Maven coordinates")
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        validation_alias=AliasChoices("SMART_METER_TRAINING_CACHE_DIR", "SMART_METER_CACHE_DIR"),
        description="where Ivy keeps the connector's jars, shared between checkouts",
    )
    model_dir: Path = Field(
        default_factory=default_model_dir, description="one folder per trained model"
    )
    horizon_hours: int = Field(
        default=24, ge=1, le=168, description="predict an event starting within this many hours"
    )
    min_event_minutes: int = Field(
        default=10, ge=0, description="a stored voltage episode counts if it lasted this long"
    )
    min_events: int = Field(
        default=5, ge=1, description="labelled positive hours needed in each part of the split"
    )
    history_days: int = Field(
        default=3, ge=1, description="days read before the scored hour by predict-voltage"
    )
    score_hours: int = Field(
        default=1, ge=1, le=24 * 7,
        description="predict-voltage scores each meter's last this many hours (1: the latest)",
    )  # fmt: skip
    seed: int = Field(default=7, description="seed of every random draw in training")

    @property
    def ivy_dir(self) -> Path:
        return self.cache_dir / "ivy"
