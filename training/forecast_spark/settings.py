"""What the forecast job reads and scores (environment: ``SMART_METER_TRAINING_FORECAST_*``).

Local days are the platform's: by default the zone of the streaming app's running totals
(``SMART_METER_VALIDATION_TOTALS__TIME_ZONE``), as for the batch's energy.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from training.forecast_spark.scoring import MIN_HISTORY_DAYS


class ForecastSettings(BaseSettings):
    """The forecast job's window, sample and threads."""

    model_config = SettingsConfigDict(
        env_prefix="SMART_METER_TRAINING_FORECAST_", frozen=True, extra="ignore"
    )

    history_days: int = Field(
        default=56,
        ge=MIN_HISTORY_DAYS,
        description="local days read up to --to: lags, fitting, and the 7 days scored",
    )
    sample_transformers: int = Field(
        default=200, ge=1, description="transformers (with their meters) scored and fitted on"
    )
    threads: int = Field(
        default=1,
        ge=1,
        description="OpenMP threads of the boosted trees; more than 1 is slower on a busy machine",
    )
    time_zone: str = Field(
        default="UTC",
        validation_alias=AliasChoices(
            "SMART_METER_TRAINING_FORECAST_TIME_ZONE", "SMART_METER_VALIDATION_TOTALS__TIME_ZONE"
        ),
        description="IANA zone of the local days forecast",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (an IANA name)") from None
        return zone
