"""How big each fault is (drawn when it starts), and what it does to a reading's fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from inject.faults.config import FaultConfig
from inject.faults.kinds import SUSTAINED_VOLTAGE_KINDS, FaultKind
from smart_meter.reading import MAX_CURRENT_A, Reading

# Faults that last several intervals and stay on the meter as its active fault.
PERIOD_KINDS = frozenset(
    {
        FaultKind.MISSING,
        FaultKind.CLOCK_SKEW,
        FaultKind.FLAT_LINE,
        FaultKind.ZERO_RUN,
        *SUSTAINED_VOLTAGE_KINDS,
    }
)
HELD_KINDS = frozenset({FaultKind.LATE, FaultKind.OUT_OF_ORDER})
DUPLICATE_KINDS = frozenset({FaultKind.DUPLICATE_IDENTICAL, FaultKind.DUPLICATE_CONFLICTING})
# A register fault is only visible against the reading just before it, so that one must be sent.
NEEDS_PREVIOUS_SENT = frozenset(
    {
        FaultKind.REGISTER_DECREASE,
        FaultKind.RESET,
        FaultKind.SPIKE,
        FaultKind.FLAT_LINE,
        FaultKind.ZERO_RUN,
    }
)
NEEDS_VOLTAGE = frozenset(
    {FaultKind.VOLTAGE_SAG, FaultKind.VOLTAGE_SWELL, *SUSTAINED_VOLTAGE_KINDS}
)
MAX_OFF_GRID_FRACTION = 0.45  # an off-grid time stays nearer its own slot than the next


@dataclass(frozen=True)
class Start:
    """A fault about to start: how many intervals it keeps the meter, and its parameters."""

    kind: FaultKind
    span_intervals: int
    details: dict[str, Any]


def _between(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def draw_start(
    kind: FaultKind, config: FaultConfig, rng: np.random.Generator, interval_s: int
) -> Start:
    """Draw the size of a fault of ``kind`` that starts now."""
    if kind is FaultKind.MISSING:
        return Start(kind, _between(rng, config.missing_intervals), {})
    if kind is FaultKind.CLOCK_SKEW:
        skew_s = _signed_seconds(rng, config.clock_skew_s, interval_s)
        return Start(kind, _between(rng, config.clock_skew_intervals), {"skew_s": skew_s})
    if kind is FaultKind.FLAT_LINE:
        return Start(kind, _between(rng, config.flat_line_intervals), {})
    if kind is FaultKind.ZERO_RUN:
        return Start(kind, _between(rng, config.zero_run_intervals), {})
    if kind in SUSTAINED_VOLTAGE_KINDS:
        return Start(kind, _between(rng, config.sustained_voltage_intervals), {})
    if kind is FaultKind.LATE:
        delay = late_delay_intervals(config, rng)
        return Start(kind, delay + 1, {"delay_intervals": delay})
    if kind is FaultKind.OUT_OF_ORDER:
        return Start(kind, 2, {"delay_intervals": 1})
    return Start(kind, 1, {})


def late_delay_intervals(config: FaultConfig, rng: np.random.Generator) -> int:
    """At least 2 intervals (1 is out-of-order), geometric with the configured mean, capped."""
    extra_mean = config.late_delay_intervals_mean - 1.0
    delay = 1 + int(rng.geometric(1.0 / extra_mean))
    return min(delay, config.late_delay_intervals_max)


def _signed_seconds(rng: np.random.Generator, bounds: tuple[float, float], interval_s: int) -> int:
    cap_s = MAX_OFF_GRID_FRACTION * interval_s
    magnitude = min(float(rng.uniform(*bounds)), cap_s)
    sign = 1 if rng.random() < 0.5 else -1
    return sign * max(1, round(magnitude))


def irregular_offset_s(config: FaultConfig, rng: np.random.Generator, interval_s: int) -> int:
    """Seconds off the grid for one irregular sample (never 0, under half an interval)."""
    low, high = config.irregular_offset_fraction
    return _signed_seconds(rng, (low * interval_s, high * interval_s), interval_s)


def shifted(reading: Reading, changes: dict[str, Any], seconds: int) -> None:
    changes["ts"] = reading.ts + timedelta(seconds=seconds)


def phase_voltages(
    reading: Reading, bounds: tuple[float, float], rng: np.random.Generator
) -> tuple[float, ...]:
    """Every phase of ``reading`` at a voltage drawn within ``bounds``."""
    phases = len(reading.voltage_v or (0.0,))
    return tuple(round(float(rng.uniform(*bounds)), 1) for _ in range(phases))


def scaled_current(reading: Reading, factor: float) -> tuple[float, ...] | None:
    if reading.current_a is None:
        return None
    return tuple(min(round(amps * factor, 2), MAX_CURRENT_A) for amps in reading.current_a)


def conflicting_copy(
    reading: Reading, config: FaultConfig, rng: np.random.Generator
) -> tuple[Reading, float]:
    """The same meter and time with another register (and voltage): returns it and the shift."""
    shift_wh = round(float(rng.uniform(*config.conflict_wh)), 1) or 0.1
    if reading.import_wh >= shift_wh and rng.random() < 0.5:
        shift_wh = -shift_wh
    changes: dict[str, Any] = {"import_wh": round(reading.import_wh + shift_wh, 1)}
    if reading.voltage_v is not None:
        changes["voltage_v"] = tuple(round(volts + 1.5, 1) for volts in reading.voltage_v)
    return reading.model_copy(update=changes), shift_wh
