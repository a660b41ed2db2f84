"""What a fault does to one reading's fields: register, timestamp, voltage, current.

Functions here change ``state`` (the shown register) and collect field ``changes`` for
one reading, plus the ``details`` that go to the ground truth; the injector applies the
changes in one copy of the (frozen) reading.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inject.faults import detectable, effects
from inject.faults.config import FaultConfig
from inject.faults.ground_truth import iso_utc
from inject.faults.kinds import SUSTAINED_VOLTAGE_KINDS, FaultKind
from inject.faults.state import MeterState
from smart_meter.reading import Reading

FALLBACK_INTERVAL_WH = 100.0


def near_modulus(
    state: MeterState,
    reading: Reading,
    config: FaultConfig,
    rng: np.random.Generator,
    interval_s: int,
) -> None:
    """Start the shown register a few intervals' energy below the modulus, so it wraps soon.

    The interval energy is estimated from the first reading's power (V × I).
    """
    interval_wh = FALLBACK_INTERVAL_WH
    if reading.voltage_v and reading.current_a:
        watts = reading.voltage_v[0] * sum(reading.current_a)
        interval_wh = max(watts * interval_s / 3600, 1.0)
    headroom_wh = interval_wh * float(rng.uniform(1.0, config.rollover_within_intervals))
    state.offset_wh = config.register_modulus_wh - headroom_wh - reading.import_wh
    state.rollover_candidate = True


def shape_register(
    kind: FaultKind | None,
    state: MeterState,
    before_wh: float,
    details: dict[str, Any],
    config: FaultConfig,
    rng: np.random.Generator,
    ts_ms: int,
) -> None:
    """Reset, decrease and spike move the shown register once; it continues from there."""
    if kind is FaultKind.RESET:
        state.move_register(0.0)
        details.update(from_wh=state.last_sent_wh)
    elif kind is FaultKind.REGISTER_DECREASE:
        _decrease(state, details, config, rng)
    elif kind is FaultKind.SPIKE:
        _spike(state, before_wh, details, config, rng, ts_ms)


def _decrease(
    state: MeterState, details: dict[str, Any], config: FaultConfig, rng: np.random.Generator
) -> None:
    """Down by a drop that leaves the register at or above the reset level, in the same
    turn of the register (never mistaken for a reset or a wrap)."""
    shown_before_wh = state.last_sent_wh or 0.0
    limits = config.detection
    drop_wh = detectable.decrease_drop_wh(shown_before_wh, config.decrease_wh, limits, rng)
    state.move_register(state.wraps * config.register_modulus_wh + shown_before_wh - drop_wh)
    details.update(from_wh=shown_before_wh, drop_wh=drop_wh)


def _spike(
    state: MeterState,
    before_wh: float,
    details: dict[str, Any],
    config: FaultConfig,
    rng: np.random.Generator,
    ts_ms: int,
) -> None:
    """One interval at ``spike_ratio`` x the meter's baseline power (see detectable)."""
    seen = state.seen
    assert seen.last_ts_ms is not None  # the injector starts a spike only with a history
    recent = config.spike_history_intervals
    baseline_w = detectable.spike_baseline_w(seen.history_w, config.detection, recent)
    duration_ms = ts_ms - seen.last_ts_ms
    power_w = float(rng.uniform(*config.spike_ratio)) * baseline_w
    spike_wh = detectable.spike_energy_wh(power_w, duration_ms)
    true_wh = state.register_wh - before_wh
    state.move_register(before_wh + spike_wh)
    details.update(
        interval_wh=spike_wh,
        power_w=round(spike_wh * detectable.MS_PER_HOUR / duration_ms, 1),
        baseline_w=round(baseline_w, 1),
        ratio=round(spike_wh * detectable.MS_PER_HOUR / duration_ms / baseline_w, 2),
        current_factor=spike_wh / max(true_wh, 1e-9),
    )


def apply_active(
    state: MeterState,
    reading: Reading,
    changes: dict[str, Any],
    config: FaultConfig,
    rng: np.random.Generator,
) -> None:
    """The field changes of the fault that spans this interval, if any."""
    active = state.active
    if active is None:
        return
    if active.kind is FaultKind.CLOCK_SKEW:
        effects.shifted(reading, changes, active.details["skew_s"])
    elif active.kind is FaultKind.ZERO_RUN and reading.current_a is not None:
        changes["current_a"] = tuple(0.0 for _ in reading.current_a)
    elif active.kind in SUSTAINED_VOLTAGE_KINDS:
        under = active.kind is FaultKind.SUSTAINED_UNDERVOLTAGE
        bounds = config.undervoltage_v if under else config.overvoltage_v
        changes["voltage_v"] = effects.phase_voltages(reading, bounds, rng)


def apply_instant(
    kind: FaultKind | None,
    reading: Reading,
    changes: dict[str, Any],
    details: dict[str, Any],
    config: FaultConfig,
    rng: np.random.Generator,
    interval_s: int,
) -> None:
    """The field changes of a one-interval fault that starts now."""
    if kind is FaultKind.IRREGULAR_SAMPLING:
        offset_s = effects.irregular_offset_s(config, rng, interval_s)
        effects.shifted(reading, changes, offset_s)
        details.update(offset_s=offset_s, grid_ts=iso_utc(reading.ts))
    elif kind in (FaultKind.VOLTAGE_SAG, FaultKind.VOLTAGE_SWELL):
        bounds = config.sag_v if kind is FaultKind.VOLTAGE_SAG else config.swell_v
        changes["voltage_v"] = effects.phase_voltages(reading, bounds, rng)
        details["voltage_v"] = list(changes["voltage_v"])
    elif kind is FaultKind.SPIKE:
        changes["current_a"] = effects.scaled_current(reading, details.pop("current_factor"))
    if kind in (FaultKind.RESET, FaultKind.REGISTER_DECREASE):
        details["to_wh"] = changes.get("import_wh", reading.import_wh)
