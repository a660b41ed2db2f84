"""Grid stress: regional weather anomalies that last days, and weak transformers.

Without stress a simulated transformer's voltage barely moves with its load, so
under-voltage comes only from injected faults: noise nobody can predict. With stress:

- each region goes through cold spells: an anomaly of ``anomaly_c`` (a few degrees below
  normal, drawn per spell) lasting ``spell_days`` days, separated by calm stretches;
  colder weather means more heating load;
- a share of the transformers (``weak_share``, a quarter by default) are weak: their
  voltage drops with the cube of their load relative to a rated load
  (``weak_drop_v * (load / rated) ** 3``), so at the evening peak of a cold spell their
  meters fall below the EN 50160 band (207 V) for hours, and on a calm day they do not.

Under-voltage events on weak transformers are therefore predictable from load,
temperature and recent voltage: what the voltage-event classifier learns.
Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class GridStressConfig:
    """How strong and how frequent the stress is."""

    weak_share: float = 0.25
    weak_drop_v: float = 9.0
    rated_load_factor: float = 2.2
    anomaly_c: tuple[float, float] = (-14.0, -8.0)
    spell_days: tuple[int, int] = (1, 3)
    calm_days: tuple[int, int] = (3, 7)
    horizon_days: int = 800


class GridStress:
    """Per-region temperature anomalies and per-transformer voltage drop under load."""

    def __init__(
        self,
        config: GridStressConfig,
        seed: int,
        regions: int,
        transformers: int,
        start: datetime,
    ) -> None:
        self.config = config
        self.start_s = start.timestamp()
        rng = np.random.default_rng([seed, 4242])
        self.weak = rng.random(transformers) < config.weak_share
        self.spells = [self._spells(rng) for _ in range(regions)]

    def _spells(self, rng: np.random.Generator) -> list[tuple[float, float, float]]:
        """``(first day, last day (exclusive), anomaly °C)`` of one region's cold spells."""
        spells: list[tuple[float, float, float]] = []
        day = float(rng.integers(0, self.config.calm_days[1] + 1))
        while day < self.config.horizon_days:
            length = float(rng.integers(self.config.spell_days[0], self.config.spell_days[1] + 1))
            anomaly = float(rng.uniform(*self.config.anomaly_c))
            spells.append((day, day + length, anomaly))
            calm = rng.integers(self.config.calm_days[0], self.config.calm_days[1] + 1)
            day += length + float(calm)
        return spells

    def anomaly_c(self, when: datetime) -> np.ndarray:
        """The temperature anomaly of each region at ``when`` (0 outside spells)."""
        day = (when.timestamp() - self.start_s) / SECONDS_PER_DAY
        return np.array(
            [next((a for lo, hi, a in spells if lo <= day < hi), 0.0) for spells in self.spells]
        )

    def drop_v(
        self, load_kwh: np.ndarray, rated_kwh: np.ndarray, first_transformer: int = 0
    ) -> np.ndarray:
        """Voltage drop per transformer (``first_transformer`` onwards): the cube of relative
        load on weak ones, 0 on the others."""
        weak = self.weak[first_transformer : first_transformer + len(load_kwh)]
        relative = load_kwh / np.maximum(rated_kwh, 1e-9)
        drop: np.ndarray = np.where(weak, self.config.weak_drop_v * relative**3, 0.0)
        return drop
