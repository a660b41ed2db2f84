"""The meters one Locust user owns: a small :class:`~inject.fleet.Fleet` under unique ids.

Each user plays one data concentrator with ``meters`` meters. Its fleet is simulated by
:mod:`inject.fleet` (load profiles, registers, transformer voltage) with a seed of its
own, and every id it sends is prefixed with the run, the Locust worker and the user::

    <prefix>-W<worker>-U<user>-M0000042        meter
    <prefix>-W<worker>-U<user>-T00000          transformer (likewise line and usage point)

so no two users, workers or runs ever send the same meter: adding users or worker
replicas adds meters, never duplicates.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from inject.fleet import Fleet, FleetConfig
from smart_meter.reading import GridPosition, Reading

MAX_WORKERS = 1000
MAX_USERS_PER_WORKER = 100_000
_PREFIX = re.compile(r"[A-Za-z0-9_.:\-]{1,24}")


def new_run_prefix() -> str:
    """A short random prefix that keeps this run's meters apart from every other run's."""
    return f"LT{secrets.token_hex(4)}"


@dataclass(frozen=True)
class UserSlot:
    """Who sends: the run's prefix, the Locust worker index and the user's number in it."""

    prefix: str
    worker: int
    user: int

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"meter prefix {self.prefix!r} is not 1..24 of [A-Za-z0-9_.:-]")
        if not 0 <= self.worker < MAX_WORKERS:
            raise ValueError(f"worker index {self.worker} is not within 0..{MAX_WORKERS - 1}")
        if not 0 <= self.user < MAX_USERS_PER_WORKER:
            raise ValueError(f"user number {self.user} is not within 0..{MAX_USERS_PER_WORKER - 1}")

    @property
    def name(self) -> str:
        """The concentrator id of this user, and the start of each of its meter ids."""
        return f"{self.prefix}-W{self.worker:03d}-U{self.user:05d}"

    @property
    def seed_offset(self) -> int:
        return self.worker * MAX_USERS_PER_WORKER + self.user


class UserMeters:
    """A fleet of ``meters`` meters whose readings carry this user's unique ids."""

    def __init__(
        self,
        slot: UserSlot,
        meters: int,
        start: datetime,
        interval_s: int = 1800,
        seed: int = 42,
    ) -> None:
        config = FleetConfig(meters=meters, interval_s=interval_s, seed=seed + slot.seed_offset)
        self.slot = slot
        self.fleet = Fleet(config, start)
        self._identities: dict[str, dict[str, object]] = {}

    @property
    def meter_ids(self) -> list[str]:
        return [f"{self.slot.name}-{meter_id}" for meter_id in self.fleet.meter_ids]

    def tick(self) -> tuple[datetime, list[Reading]]:
        """The next interval's reading of every meter of this user."""
        when, readings = self.fleet.tick()
        return when, [self._owned(reading) for reading in readings]

    def _owned(self, reading: Reading) -> Reading:
        identity = self._identities.get(reading.meter_id)
        if identity is None:
            identity = self._identities[reading.meter_id] = self._identity(reading)
        return reading.model_copy(update=identity)

    def _identity(self, reading: Reading) -> dict[str, object]:
        """This user's meter id and grid position for one fleet meter (they never change)."""
        name = self.slot.name
        grid = reading.grid or GridPosition()
        owned_grid = GridPosition.model_construct(
            line_id=f"{name}-{grid.line_id}" if grid.line_id else None,
            transformer_id=f"{name}-{grid.transformer_id}" if grid.transformer_id else None,
            usage_point_id=f"{name}-{grid.usage_point_id}" if grid.usage_point_id else None,
        )
        return {"meter_id": f"{name}-{reading.meter_id}", "grid": owned_grid}


def interval_start(now: datetime, interval_s: int) -> datetime:
    """``now`` rounded down to the interval grid (UTC): where a fleet's clock starts."""
    epoch_s = int(now.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % interval_s, tz=UTC)
