"""Energy between two cumulative readings, spread over periods in proportion to time.

Energies are whole milliwatt-hours (mWh) so that the split is exact: the parts of an
interval always add up to its energy, half-hours to their day and days to their month,
with no floating-point drift. The split uses cumulative floors: the part of a period is
``floor(E * t_end / T) - floor(E * t_start / T)`` with ``t`` the time elapsed since the
interval's start, which telescopes to ``E``.
"""

from __future__ import annotations

from collections.abc import Iterator

HALF_HOUR_MS = 1_800_000


def to_mwh(wh: float) -> int:
    """Watt-hours to whole milliwatt-hours (registers have at most 0.001 Wh resolution)."""
    return round(wh * 1000)


def period_starts(start_ms: int, end_ms: int, period_ms: int = HALF_HOUR_MS) -> Iterator[int]:
    """Starts of the epoch-aligned periods that ``[start_ms, end_ms)`` touches."""
    first = start_ms // period_ms * period_ms
    yield from range(first, end_ms, period_ms)


def split_energy(
    start_ms: int, end_ms: int, energy_mwh: int, period_ms: int = HALF_HOUR_MS
) -> list[tuple[int, int]]:
    """``energy_mwh`` consumed over ``[start_ms, end_ms)`` as (period start, mWh) parts."""
    if end_ms <= start_ms:
        raise ValueError(f"empty interval {start_ms}..{end_ms}")
    duration = end_ms - start_ms
    parts, given = [], 0
    for period in period_starts(start_ms, end_ms, period_ms):
        upto = min(period + period_ms, end_ms) - start_ms
        cumulative = energy_mwh * upto // duration
        parts.append((period, cumulative - given))
        given = cumulative
    return parts
