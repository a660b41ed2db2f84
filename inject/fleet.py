"""A simulated fleet of meters: grid layout, load profiles, cumulative registers, voltage.

Deterministic for a given seed. Meters are arranged as lines (feeders) of
transformers, each transformer feeding ``meters_per_transformer`` usage points. A
meter's interval energy follows a residential or commercial daily profile, scaled by
weekday/weekend, season and temperature (heating below 15 °C, cooling above 24 °C).
Voltage is shared per transformer (its tap and the network) and sags with the
transformer's load; each meter adds a small local drop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from inject.grid import GridStress, GridStressConfig
from smart_meter.reading import GridPosition, Reading

NOMINAL_V = 230.0
# Relative load by hour of day (index 0..23), normalised to mean 1.
_RESIDENTIAL = np.array(
    [
        0.5,
        0.4,
        0.35,
        0.35,
        0.4,
        0.55,
        0.9,
        1.2,
        1.0,
        0.8,
        0.75,
        0.8,
        0.9,
        0.85,
        0.8,
        0.85,
        1.1,
        1.6,
        2.0,
        1.9,
        1.6,
        1.3,
        0.9,
        0.65,
    ]
)
_COMMERCIAL = np.array(
    [
        0.3,
        0.3,
        0.3,
        0.3,
        0.3,
        0.4,
        0.7,
        1.2,
        1.6,
        1.8,
        1.8,
        1.8,
        1.7,
        1.8,
        1.8,
        1.7,
        1.6,
        1.3,
        0.9,
        0.6,
        0.4,
        0.35,
        0.3,
        0.3,
    ]
)


@dataclass(frozen=True)
class FleetConfig:
    """Shape of the fleet and its clock."""

    meters: int = 1000
    interval_s: int = 1800
    meters_per_transformer: int = 50
    transformers_per_line: int = 10
    commercial_share: float = 0.1
    regions: int = 4
    seed: int = 42
    replica: int = 0
    replicas: int = 1
    grid_stress: GridStressConfig | None = None

    def __post_init__(self) -> None:
        if self.interval_s not in (60, 900, 1800):
            raise ValueError(f"interval_s must be 60, 900 or 1800, got {self.interval_s}")
        if not 1 <= self.meters <= 1_000_000:
            raise ValueError(f"meters must be within 1..1,000,000, got {self.meters}")
        if not 0 <= self.replica < self.replicas:
            raise ValueError(f"replica {self.replica} is not within 0..{self.replicas - 1}")


class Fleet:
    """The meters one injector replica owns (meter i where i % replicas == replica)."""

    def __init__(self, config: FleetConfig, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        self.config = config
        self.start = start.astimezone(UTC)
        rng = np.random.default_rng(config.seed)
        count = config.meters
        self.index = np.arange(config.replica, count, config.replicas)
        self.commercial = rng.random(count)[self.index] < config.commercial_share
        daily_kwh = np.where(
            self.commercial,
            rng.normal(60, 15, count)[self.index],
            rng.lognormal(math.log(8.0), 0.35, count)[self.index],
        )
        self.daily_kwh = np.clip(daily_kwh, 1.0, 500.0)
        self.register_wh = rng.uniform(1e5, 5e7, count)[self.index].round(0)
        self.transformer = self.index // config.meters_per_transformer
        self.local_drop_v = rng.uniform(0.0, 3.0, count)[self.index]
        transformers = count // config.meters_per_transformer + 1
        self.tap_v = rng.normal(NOMINAL_V + 4.0, 2.0, transformers)
        self.region = self.transformer % config.regions
        self.region_temp_offset = rng.normal(0.0, 2.0, config.regions)
        self.noise = np.random.default_rng(config.seed * 7919 + config.replica)
        self.step = 0
        self.stress = (
            GridStress(config.grid_stress, config.seed, config.regions, transformers, self.start)
            if config.grid_stress is not None
            else None
        )
        self.rated_kwh = self._rated_kwh(config.grid_stress)

    def _rated_kwh(self, stress: GridStressConfig | None) -> np.ndarray:
        """Per transformer (from the lowest this replica feeds): its meters' mean interval
        energy times the stress's rated load factor."""
        factor = stress.rated_load_factor if stress is not None else 1.0
        mean_kwh = self.daily_kwh * self.config.interval_s / 86_400
        rated: np.ndarray = np.bincount(
            self.transformer - self.transformer.min(), weights=mean_kwh * factor
        )
        return rated

    @property
    def meter_ids(self) -> list[str]:
        return [meter_id(int(i)) for i in self.index]

    def ambient_c(self, when: datetime) -> np.ndarray:
        """Temperature per meter's region: seasonal and daily cycles."""
        day_of_year = when.timetuple().tm_yday
        seasonal = 11.0 - 8.0 * math.cos(2 * math.pi * (day_of_year - 20) / 365)
        daily = 4.0 * math.sin(2 * math.pi * (when.hour + when.minute / 60 - 9) / 24)
        offsets: np.ndarray = self.region_temp_offset[self.region]
        if self.stress is not None:
            offsets = offsets + self.stress.anomaly_c(when)[self.region]
        return seasonal + daily + offsets

    def _interval_kwh(self, when: datetime, ambient: np.ndarray) -> np.ndarray:
        hour = when.hour
        shape = np.where(self.commercial, _COMMERCIAL[hour], _RESIDENTIAL[hour])
        weekend = when.weekday() >= 5
        shape = np.where(self.commercial & weekend, shape * 0.35, shape * (1.1 if weekend else 1.0))
        heating = np.clip(15.0 - ambient, 0, None) * 0.03
        cooling = np.clip(ambient - 24.0, 0, None) * 0.04
        per_interval = self.daily_kwh * self.config.interval_s / 86_400
        jitter = self.noise.lognormal(0.0, 0.25, len(self.index))
        energy_kwh: np.ndarray = per_interval * shape * (1 + heating + cooling) * jitter
        return energy_kwh

    def tick(self) -> tuple[datetime, list[Reading]]:
        """Advance one interval; return its event time and every meter's reading."""
        when = self.start + timedelta(seconds=self.step * self.config.interval_s)
        ambient = self.ambient_c(when)
        energy_kwh = self._interval_kwh(when, ambient)
        self.register_wh = self.register_wh + np.round(energy_kwh * 1000, 1)
        load_per_tx = np.bincount(self.transformer - self.transformer.min(), weights=energy_kwh)
        sag = 4.0 * load_per_tx / max(float(load_per_tx.max()), 1e-9)
        if self.stress is not None:
            sag = sag + self.stress.drop_v(
                load_per_tx, self.rated_kwh[: len(load_per_tx)], int(self.transformer.min())
            )
        voltage = (
            self.tap_v[self.transformer]
            - sag[self.transformer - self.transformer.min()]
            - self.local_drop_v
            + self.noise.normal(0, 0.4, len(self.index))
        )
        current = energy_kwh * 1000 / (self.config.interval_s / 3600) / voltage
        readings = [
            self._reading(k, when, float(voltage[k]), float(current[k]), float(ambient[k]))
            for k in range(len(self.index))
        ]
        self.step += 1
        return when, readings

    def _reading(self, k: int, when: datetime, volts: float, amps: float, temp: float) -> Reading:
        i = int(self.index[k])
        transformer = int(self.transformer[k])
        return Reading(
            meter_id=meter_id(i),
            ts=when,
            seq=self.step,
            import_wh=float(self.register_wh[k]),
            voltage_v=(round(volts, 1),),
            current_a=(round(amps, 2),),
            temperature_c=round(temp, 1),
            grid=GridPosition(
                line_id=f"L{transformer // self.config.transformers_per_line:04d}",
                transformer_id=transformer_id(transformer),
                usage_point_id=f"UP{i:07d}",
            ),
        )

    def run(self, intervals: int) -> Iterator[tuple[datetime, list[Reading]]]:
        for _ in range(intervals):
            yield self.tick()


def meter_id(index: int) -> str:
    return f"M{index:07d}"


def transformer_id(index: int) -> str:
    return f"T{index:05d}"
