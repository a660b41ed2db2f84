"""Grid stress (``inject --grid-stress``): cold spells and weak transformers make
under-voltage follow load and temperature instead of chance."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from inject.cli import build_parser, options_from
from inject.fleet import Fleet, FleetConfig
from inject.grid import GridStress, GridStressConfig

START = datetime(2026, 1, 5, tzinfo=UTC)
LOW_V = 207.0


def _fleet(stress: GridStressConfig | None, meters: int = 100) -> Fleet:
    config = FleetConfig(meters=meters, meters_per_transformer=5, seed=7, grid_stress=stress)
    return Fleet(config, START)


def _run(fleet: Fleet, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voltage, temperature, and whether a cold spell is on, per interval x meter."""
    volts, temps, spell = [], [], []
    for when, readings in fleet.run(48 * days):
        volts.append([r.voltage_v[0] for r in readings if r.voltage_v])
        temps.append([r.temperature_c for r in readings])
        if fleet.stress is not None:
            spell.append(fleet.stress.anomaly_c(when)[fleet.region] < 0)
    return np.array(volts), np.array(temps, dtype=float), np.array(spell)


def test_the_drop_grows_with_the_cube_of_load_on_weak_transformers_only() -> None:
    stress = GridStress(GridStressConfig(), seed=1, regions=2, transformers=400, start=START)
    load = np.ones(400)
    once, twice = stress.drop_v(load, load), stress.drop_v(2 * load, load)
    assert np.allclose(twice[stress.weak], 8 * once[stress.weak])
    assert (once[~stress.weak] == 0).all()
    assert 0.18 < stress.weak.mean() < 0.32


def test_without_stress_no_meter_leaves_the_band() -> None:
    volts, _, _ = _run(_fleet(None), days=14)
    assert volts.min() > LOW_V


def test_under_voltage_comes_on_weak_transformers_mostly_in_cold_spells() -> None:
    fleet = _fleet(GridStressConfig())
    volts, temps, spell = _run(fleet, days=28)
    under = volts < LOW_V
    assert under.sum() > 50
    assert fleet.stress is not None
    weak_meters = fleet.stress.weak[fleet.transformer]
    assert not under[:, ~weak_meters].any()
    # cold spells cover about a third of the time but bring most of the under-voltage
    assert spell[:, weak_meters].mean() < 0.4
    assert spell[under].mean() > 0.55
    assert temps[under].mean() < temps[:, weak_meters].mean() - 3.0


def test_the_same_seed_gives_the_same_stressed_fleet() -> None:
    first, _, _ = _run(_fleet(GridStressConfig(), meters=20), days=3)
    again, _, _ = _run(_fleet(GridStressConfig(), meters=20), days=3)
    assert np.array_equal(first, again)


def test_the_cli_option_turns_it_on() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    on = options_from(build_parser().parse_args(["--grid-stress"]), now)
    off = options_from(build_parser().parse_args([]), now)
    assert on.fleet.grid_stress == GridStressConfig() and off.fleet.grid_stress is None
