"""What faults to inject and how big they are: rates per kind, sizes as (low, high) ranges.

A rate is the probability that a fault of that kind starts on a meter in one interval,
among meters that carry no fault at that moment (so faults never overlap on a meter).
When the meter rates add up to more than 1, each kind keeps its share of the sum. Two
kinds are scheduled differently: ``transformer_dark`` is a rate per transformer and
interval, and ``rollover`` is the share of meters whose register starts just below
``register_modulus_wh`` so that it wraps within ``rollover_within_intervals`` or so.

``detection`` holds the validator's limits that a decrease and a spike must clear to be
labelled as such (:mod:`inject.faults.detectable`); the defaults are the prod preset's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inject.faults.detectable import DetectionLimits
from inject.faults.kinds import MALFORMED_KINDS, FaultKind

ProfileName = Literal["none", "default", "all"]
IntRange = tuple[int, int]
FloatRange = tuple[float, float]
# A spike's ratio stays this far above the rule's, so no rounding brings it under.
SPIKE_RATIO_MARGIN = 1.1


class FaultConfig(BaseModel):
    """Rates per fault kind, and the size of each fault (every range is ``(low, high)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rates: dict[FaultKind, float] = Field(
        default_factory=dict, description="probability per meter and interval (see module)"
    )
    cooldown_intervals: int = Field(1, ge=0, description="clean intervals after each fault")
    missing_intervals: IntRange = Field((1, 6), description="length of a meter's silence")
    dark_intervals: IntRange = Field((2, 8), description="length of a transformer outage")
    late_delay_intervals_mean: float = Field(3.0, ge=2.0, description="mean delay of late ones")
    late_delay_intervals_max: int = Field(12, ge=2, description="longest delay of a late one")
    irregular_offset_fraction: FloatRange = Field(
        (0.05, 0.45), description="|timestamp offset| as a fraction of the interval (< 0.5)"
    )
    clock_skew_s: FloatRange = Field(
        (5.0, 600.0), description="|clock offset|, capped at 0.45 of the interval"
    )
    clock_skew_intervals: IntRange = Field((2, 6), description="how long a clock stays skewed")
    register_modulus_wh: float = Field(
        1e8, gt=0, description="the register wraps here (1e8 Wh: a 5-digit kWh display)"
    )
    rollover_within_intervals: float = Field(
        8.0, ge=1.0, description="rollover candidates start about this many intervals from it"
    )
    decrease_wh: FloatRange = Field(
        (50.0, 5000.0),
        description="how far a register goes back (never below detection.reset_below_wh)",
    )
    spike_ratio: FloatRange = Field(
        (10.0, 30.0),
        description="spike power / the spike rule's baseline power (see detection)",
    )
    spike_history_intervals: int = Field(
        6, ge=1, description="intervals a meter runs before its first spike, and between spikes"
    )
    detection: DetectionLimits = Field(
        default_factory=DetectionLimits,
        description="rule limits a decrease and a spike must clear (default: prod preset)",
    )
    flat_line_intervals: IntRange = Field((4, 8), description="register stuck, load present")
    zero_run_intervals: IntRange = Field((12, 24), description="register stuck, no current")
    sag_v: FloatRange = Field((180.0, 205.0), description="voltage of a transient sag")
    swell_v: FloatRange = Field((255.0, 275.0), description="voltage of a transient swell")
    undervoltage_v: FloatRange = Field((195.0, 205.0), description="sustained undervoltage")
    overvoltage_v: FloatRange = Field((255.0, 262.0), description="sustained overvoltage")
    sustained_voltage_intervals: IntRange = Field(
        (3, 8), description="duration of a sustained under/over-voltage"
    )
    conflict_wh: FloatRange = Field(
        (1.0, 50.0), description="how far a conflicting duplicate's register differs"
    )

    @field_validator("rates")
    @classmethod
    def _rates_are_probabilities(cls, rates: dict[FaultKind, float]) -> dict[FaultKind, float]:
        for kind, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate of {kind} must be within 0..1, got {rate}")
        return rates

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> FaultConfig:
        for name, value in self:
            if name.endswith(("_intervals", "_fraction", "_s", "_wh", "_v", "_ratio")) and (
                isinstance(value, tuple) and not 0 <= value[0] <= value[1]
            ):
                raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {value}")
        if self.irregular_offset_fraction[1] >= 0.5:
            raise ValueError("irregular_offset_fraction must stay below 0.5 of the interval")
        least_ratio = SPIKE_RATIO_MARGIN * self.detection.spike_ratio
        if self.spike_ratio[0] < least_ratio:
            raise ValueError(f"spike_ratio must start at {least_ratio:g} or more (rule's x 1.1)")
        return self

    def rate(self, kind: FaultKind) -> float:
        return self.rates.get(kind, 0.0)

    @property
    def longest_fault_intervals(self) -> int:
        """Upper bound of the intervals one meter fault keeps the meter busy."""
        spans = (
            self.missing_intervals[1],
            self.late_delay_intervals_max + 1,
            self.clock_skew_intervals[1],
            self.flat_line_intervals[1],
            self.zero_run_intervals[1],
            self.sustained_voltage_intervals[1],
            2,
        )
        return max(spans) + self.cooldown_intervals + 1

    @classmethod
    def profile(cls, name: ProfileName, detection: DetectionLimits | None = None) -> FaultConfig:
        """``none``: clean data; ``default``: a realistic trickle; ``all``: every kind, often.

        ``detection``: the limits of the rules the run is validated with (default: prod).
        """
        limits = detection or DetectionLimits()
        if name == "none":
            return cls(detection=limits)
        if name == "default":
            return cls(rates=_DEFAULT_RATES, detection=limits)
        return cls(rates=_ALL_RATES, detection=limits)


_DEFAULT_RATES: dict[FaultKind, float] = {
    FaultKind.MISSING: 0.002,
    FaultKind.TRANSFORMER_DARK: 0.0005,
    FaultKind.LATE: 0.005,
    FaultKind.OUT_OF_ORDER: 0.002,
    FaultKind.DUPLICATE_IDENTICAL: 0.003,
    FaultKind.DUPLICATE_CONFLICTING: 0.0005,
    FaultKind.IRREGULAR_SAMPLING: 0.002,
    FaultKind.CLOCK_SKEW: 0.0005,
    FaultKind.REGISTER_DECREASE: 0.0002,
    FaultKind.ROLLOVER: 0.001,
    FaultKind.RESET: 0.0002,
    FaultKind.SPIKE: 0.0005,
    FaultKind.FLAT_LINE: 0.0005,
    FaultKind.ZERO_RUN: 0.0002,
    FaultKind.VOLTAGE_SAG: 0.001,
    FaultKind.VOLTAGE_SWELL: 0.0005,
    FaultKind.SUSTAINED_UNDERVOLTAGE: 0.0003,
    FaultKind.SUSTAINED_OVERVOLTAGE: 0.0002,
    **dict.fromkeys(MALFORMED_KINDS, 0.0002),
}
_ALL_RATES: dict[FaultKind, float] = {
    **dict.fromkeys(FaultKind, 0.012),
    FaultKind.TRANSFORMER_DARK: 0.01,
    FaultKind.ROLLOVER: 0.2,
}
