"""A small simulated fleet under grid stress with voltage faults, stored the way the
streaming app stores it (its validation and Cassandra sink: readings, voltage episodes),
for the voltage classifier's tests and the dashboards' tests.

Half-hourly meters, ``per_transformer`` per transformer, cold spells and weak
transformers (``inject --grid-stress``), a few injected sags and sustained
under-voltages on top. The whole fleet is deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from inject.faults import FaultConfig, FaultInjector
from inject.faults.kinds import FaultKind
from inject.fleet import Fleet, FleetConfig
from inject.grid import GridStressConfig
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from tests.streaming_storage import store_as_the_app_does

INTERVAL_S = 1800
VOLTAGE_FAULTS = FaultConfig(
    rates={FaultKind.VOLTAGE_SAG: 0.0005, FaultKind.SUSTAINED_UNDERVOLTAGE: 0.0003}
)


@dataclass(frozen=True)
class VoltageFleet:
    """What was stored: the meters and transformers, the UTC days covered."""

    meters: list[str]
    transformers: list[str]
    first_day: date
    last_day: date
    readings: int


def fleet_readings(
    start: datetime, intervals: int, per_transformer: int = 5, meters: int = 60, seed: int = 7
) -> list[Reading]:
    """Every reading the injector sends for the fleet, in sending order."""
    config = FleetConfig(
        meters=meters, interval_s=INTERVAL_S, meters_per_transformer=per_transformer,
        seed=seed, grid_stress=GridStressConfig(),
    )  # fmt: skip
    fleet = Fleet(config, start)
    injector = FaultInjector(VOLTAGE_FAULTS, INTERVAL_S, seed)
    sent: list[Reading] = []
    for when, readings in fleet.run(intervals):
        sent.extend(injector.inject(when, readings).readings)
    sent.extend(injector.drain().readings)
    return sent


async def store_voltage_fleet(
    connections: ConnectionSettings,
    start: datetime,
    intervals: int,
    per_transformer: int = 5,
    meters: int = 60,
    seed: int = 7,
) -> VoltageFleet:
    """Simulate, validate and store through the app's path; what was stored."""
    readings = fleet_readings(start, intervals, per_transformer, meters, seed)
    await store_as_the_app_does(connections, readings)
    end = start + timedelta(seconds=INTERVAL_S * (intervals - 1))
    return VoltageFleet(
        meters=sorted({r.meter_id for r in readings}),
        transformers=sorted(
            {r.grid.transformer_id for r in readings if r.grid and r.grid.transformer_id}
        ),
        first_day=start.date(),
        last_day=end.date(),
        readings=len(readings),
    )
