"""Validation settings: every rule's and aggregator's parameters, the watermark bound and
the state TTL; presets.

One frozen settings object (environment: ``SMART_METER_VALIDATION_*``, nested with
``__``, e.g. ``SMART_METER_VALIDATION_GAP__GRACE_MS=600000``). :func:`prod_settings` is
the default (half-hourly meters, 15-minute/2 kWh windows); :func:`demo_settings` suits
the minute-interval demo fleet (1-minute/0.05 kWh windows sliding every 15 s). Both
count running totals under ``SMART_METER_VALIDATION_TOTALS__TARIFF_CSV`` (default: the
time-of-day tariff shipped in :mod:`smart_meter.energy`) in local days of
``SMART_METER_VALIDATION_TOTALS__TIME_ZONE`` (default UTC).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streaming_app.rules.base import Rule
from streaming_app.rules.duplicate import DuplicateRule
from streaming_app.rules.engine import Validator
from streaming_app.rules.flatline import FlatLineRule
from streaming_app.rules.future import FutureTimestampRule
from streaming_app.rules.gap import GapRule
from streaming_app.rules.irregular import IrregularRule
from streaming_app.rules.lateness import LatenessRule
from streaming_app.rules.register import RegisterRule
from streaming_app.rules.spike import SpikeRule
from streaming_app.rules.voltage import VoltageRule
from streaming_app.rules.window import WindowThresholdRule
from streaming_app.totals.aggregator import TotalsAggregator

DAY_MS = 86_400_000


class ValidationSettings(BaseSettings):
    """The rule set and the engine's parameters."""

    model_config = SettingsConfigDict(
        env_prefix="SMART_METER_VALIDATION_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    preset: str = Field(default="prod", description="name of the preset these came from")
    out_of_orderness_ms: int = Field(default=60_000, ge=0, description="watermark bound")
    meter_ttl_ms: int = Field(default=7 * DAY_MS, gt=0, description="idle meters are forgotten")
    future_timestamp: FutureTimestampRule = FutureTimestampRule()
    lateness: LatenessRule = LatenessRule()
    duplicate: DuplicateRule = DuplicateRule()
    register_check: RegisterRule = RegisterRule()
    spike: SpikeRule = SpikeRule()
    gap: GapRule = GapRule()
    irregular: IrregularRule = IrregularRule()
    flatline: FlatLineRule = FlatLineRule()
    voltage: VoltageRule = VoltageRule()
    window_threshold: WindowThresholdRule = WindowThresholdRule()
    totals: TotalsAggregator = Field(
        default_factory=TotalsAggregator,  # reads the tariff: when settings are made
        description="running totals: tariff (TOTALS__TARIFF_CSV), local days (TOTALS__TIME_ZONE)",
    )

    def rules(self) -> tuple[Rule[Any], ...]:
        """The rules in evaluation order: rejecting checks before state that accumulates."""
        return (
            self.future_timestamp,
            self.lateness,
            self.duplicate,
            self.register_check,
            self.spike,
            self.gap,
            self.irregular,
            self.flatline,
            self.voltage,
            self.window_threshold,
        )

    def aggregators(self) -> tuple[TotalsAggregator, ...]:
        """What counts the readings every rule let through (running totals)."""
        return (self.totals,)

    def validator(self) -> Validator:
        """A fresh validator with these settings."""
        return Validator(
            self.rules(),
            self.aggregators(),
            out_of_orderness_ms=self.out_of_orderness_ms,
            meter_ttl_ms=self.meter_ttl_ms,
        )


def prod_settings(**overrides: Any) -> ValidationSettings:
    """Half-hourly meters; windows of 15 min sliding by 5 min, alert above 2.0 kWh."""
    return ValidationSettings(**overrides)


def demo_settings(**overrides: Any) -> ValidationSettings:
    """Minute-interval meters; windows of 60 s sliding by 15 s, alert above 0.05 kWh."""
    interval_s = 60
    values: dict[str, Any] = {
        "preset": "demo",
        "out_of_orderness_ms": 5_000,
        "meter_ttl_ms": DAY_MS,
        "lateness": LatenessRule(allowed_lateness_ms=600_000),
        "gap": GapRule(interval_s=interval_s, grace_ms=30_000, clock_tolerance_ms=2_000),
        "irregular": IrregularRule(interval_s=interval_s, clock_tolerance_ms=2_000),
        "spike": SpikeRule(min_history=10, history_size=60),
        "window_threshold": WindowThresholdRule(
            window_ms=60_000, slide_ms=15_000, threshold_wh=50.0
        ),
    }
    return ValidationSettings(**{**values, **overrides})


PRESETS = {"prod": prod_settings, "demo": demo_settings}
