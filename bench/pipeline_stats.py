"""The pipeline benchmark's arithmetic: spreads of repeated runs, ratios, CPU per reading,
and the cores a target rate needs. Pure functions, no servers (unit-tested)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MICROS = 1_000_000


@dataclass(frozen=True)
class Spread:
    """Min, median and max of repeated runs (NaN when none)."""

    low: float
    median: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(min(finite), statistics.median(finite), max(finite), len(finite))

    def text(self, digits: int = 0) -> str:
        """``median (min-max)``, thousands separated; ``-`` when nothing was measured."""
        if not self.runs:
            return "-"
        median = f"{self.median:,.{digits}f}"
        if self.runs == 1:
            return median
        return f"{median} ({self.low:,.{digits}f}-{self.high:,.{digits}f})"

    def as_dict(self) -> dict[str, float | int | None]:
        def plain(value: float) -> float | None:
            return round(value, 3) if math.isfinite(value) else None

        return {
            "min": plain(self.low),
            "median": plain(self.median),
            "max": plain(self.high),
            "runs": self.runs,
        }


def per_second(count: int, seconds: float) -> float:
    """``count / seconds``; NaN for an empty or instant window."""
    return count / seconds if seconds > 0 and count > 0 else math.nan


def ratio(top: float, bottom: float) -> float:
    """``top / bottom``; NaN when either is missing or the bottom is not positive."""
    if not (math.isfinite(top) and math.isfinite(bottom)) or bottom <= 0:
        return math.nan
    return top / bottom


def micros_per(cpu_seconds: float, count: int) -> float:
    """CPU µs per item: ``cpu_seconds`` over ``count`` items (NaN for none)."""
    return cpu_seconds * MICROS / count if count > 0 else math.nan


def median_ratio(tops: Sequence[float], bottoms: Sequence[float]) -> Spread:
    """The spread of every run's ratio to the median of the other quantity (the sink limit
    of a run is measured once per repeat, the end-to-end rate once per run)."""
    bottom = Spread.of(bottoms).median
    return Spread.of([ratio(top, bottom) for top in tops])


@dataclass(frozen=True)
class CoreNeed:
    """Cores one component needs for ``rate`` readings/s at ``micros`` CPU µs per reading,
    busy at most ``utilisation`` of the time."""

    component: str
    rate: float
    micros: float
    utilisation: float

    @property
    def busy_cores(self) -> float:
        """CPU seconds per second: ``rate × micros / 10⁶``."""
        return self.rate * self.micros / MICROS

    @property
    def cores(self) -> int:
        """Whole cores with headroom: ``ceil(busy_cores / utilisation)``, at least one."""
        if not math.isfinite(self.busy_cores):
            return 0
        return max(1, math.ceil(round(self.busy_cores / self.utilisation, 9)))

    def arithmetic(self) -> str:
        return (
            f"{self.rate:,.0f}/s × {self.micros:,.1f} µs = {self.busy_cores:,.2f} cores busy; "
            f"/ {self.utilisation:.0%} = {self.cores} cores"
        )


def capacity(
    rates: Sequence[float], micros_per_reading: Mapping[str, float], utilisation: float = 0.7
) -> list[CoreNeed]:
    """Cores of each component for each target rate, from measured µs per reading."""
    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation}")
    return [
        CoreNeed(component, rate, micros, utilisation)
        for rate in rates
        for component, micros in micros_per_reading.items()
    ]
