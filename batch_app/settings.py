"""How the batch jobs run (environment: ``SMART_METER_BATCH_*``).

The tariff and the time zone of local days are the platform's: by default the batch reads
the same settings as the streaming app's running totals
(``SMART_METER_VALIDATION_TOTALS__TARIFF_CSV``, ``..._CURRENCY``, ``..._TIME_ZONE``,
``..._MAX_INTERVAL_DAYS``), so that both sides count the same energy the same way;
``SMART_METER_BATCH_*`` overrides them for the batch alone.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.energy.register import MAX_KW, RESET_BELOW_WH, ROLLOVER_AT_WH
from smart_meter.energy.tariff import DEFAULT_TARIFF_CSV
from smart_meter.settings import default_cache_dir
from smart_meter.spark.session import CONNECTOR_PACKAGE, SparkOptions


def _platform(name: str, totals_name: str | None = None) -> AliasChoices:
    """Read ``SMART_METER_BATCH_<NAME>``, else the streaming totals' setting of that name."""
    totals = (totals_name or name).upper()
    return AliasChoices(
        f"SMART_METER_BATCH_{name.upper()}", f"SMART_METER_VALIDATION_TOTALS__{totals}"
    )


class BatchSettings(BaseSettings):
    """Where Spark runs, and the platform settings the jobs compute with."""

    model_config = SettingsConfigDict(
        env_prefix="SMART_METER_BATCH_", frozen=True, extra="ignore", populate_by_name=True
    )

    master: str = Field(
        default="local[2]", description="Spark master: local[N], or spark://host:7077 for a cluster"
    )
    driver_memory: str = Field(default="2g", description="Spark driver memory (local mode: all)")
    shuffle_partitions: int = Field(
        default=8, ge=1, description="spark.sql.shuffle.partitions; small for one machine"
    )
    connector_package: str = Field(default=CONNECTOR_PACKAGE, description="Maven coordinates")
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        validation_alias=AliasChoices("SMART_METER_BATCH_CACHE_DIR", "SMART_METER_CACHE_DIR"),
        description="where Ivy keeps the connector's jars, shared between checkouts",
    )
    tariff_csv: Path = Field(
        default=DEFAULT_TARIFF_CSV,
        validation_alias=_platform("tariff_csv"),
        description="'period,tariff' CSV: price per kWh of each local half-hour",
    )
    currency: str = Field(default="EUR", min_length=1, validation_alias=_platform("currency"))
    time_zone: str = Field(
        default="UTC",
        validation_alias=_platform("time_zone"),
        description="IANA zone of local days, tariff half-hours and completeness",
    )
    max_interval_days: int = Field(
        default=7,
        ge=1,
        validation_alias=_platform("max_interval_days"),
        description="longer silences are not spread over days (as the running totals)",
    )
    rollover_at_wh: float = Field(default=ROLLOVER_AT_WH, gt=0, description="register capacity")
    max_kw: float = Field(
        default=MAX_KW, gt=0, description="a rollover is believed if its energy fits this"
    )
    reset_below_wh: float = Field(
        default=RESET_BELOW_WH, ge=0, description="a register falling below this was reset"
    )
    register_rule_id: str = Field(
        default="register", description="the id the register rule leaves in failed_rules"
    )
    linear_limit_minutes: int = Field(
        default=120, ge=1, description="gaps up to this long are estimated linearly"
    )
    like_days: int = Field(default=4, ge=1, description="same-weekday days a like-day mean uses")
    lookback_days: int = Field(
        default=28, ge=7, description="history read before the range, for like days"
    )
    base_temperature_c: float = Field(
        default=15.5, description="heating degree-days below this daily mean temperature"
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            hint = "an IANA name, e.g. Europe/Lisbon"
            raise ValueError(f"unknown time zone {zone!r} ({hint})") from None
        return zone

    @property
    def max_interval(self) -> timedelta:
        return timedelta(days=self.max_interval_days)

    @property
    def ivy_dir(self) -> Path:
        return self.cache_dir / "ivy"

    def spark_options(self) -> SparkOptions:
        return SparkOptions(
            master=self.master,
            driver_memory=self.driver_memory,
            shuffle_partitions=self.shuffle_partitions,
            connector_package=self.connector_package,
            ivy_dir=self.ivy_dir,
        )
