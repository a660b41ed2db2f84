"""Helpers for tests of the validation core: readings at wall-clock times, a faulty stream.

``reading("10:30", 1200.0)`` is meter ``M1`` on the day :data:`DAY` at 10:30 UTC.
:func:`faulty_stream` is a deterministic mix of the faults every rule looks for, used by
the shared rule checks and by crash-resume tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from smart_meter.reading import Reading
from streaming_app.rules.base import Action, Context, Finding, Interval, Rule

DAY = datetime(2024, 1, 15, tzinfo=UTC)


def at(clock: str) -> datetime:
    """``"HH:MM"`` or ``"HH:MM:SS"`` on :data:`DAY`, or a full ISO time."""
    if "T" in clock:
        return datetime.fromisoformat(clock).astimezone(UTC)
    parts = [int(part) for part in clock.split(":")]
    hours, minutes, seconds = [*parts, 0, 0][:3]
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def ms(clock: str) -> int:
    """:func:`at` as epoch milliseconds."""
    return int(at(clock).timestamp() * 1000)


def reading(
    clock: str | datetime,
    import_wh: float = 1000.0,
    *,
    meter_id: str = "M1",
    voltage_v: tuple[float, ...] | None = (230.0,),
    current_a: tuple[float, ...] | None = None,
    seq: int | None = None,
) -> Reading:
    """One reading; ``clock`` as for :func:`at`."""
    when = at(clock) if isinstance(clock, str) else clock
    return Reading(
        meter_id=meter_id,
        ts=when,
        seq=seq,
        import_wh=import_wh,
        voltage_v=voltage_v,
        current_a=current_a,
    )


def run_rule(
    rule: Rule[Any], readings: Iterable[Reading], state: Any = None
) -> tuple[list[list[Finding]], Any]:
    """Evaluate ``rule`` alone over ``readings`` as the engine would hand them to it (each
    against the newest earlier reading it did not reject or halt; no watermark); its
    findings per reading, and its state."""
    state = rule.new_state() if state is None else state
    reference: tuple[int, float] | None = None
    found: list[list[Finding]] = []
    for item in readings:
        interval = None if reference is None else Interval(*reference, item.ts_ms, item.import_wh)
        findings = rule.evaluate(item, state, Context(interval=interval))
        found.append(findings)
        kept = not any(f.action is Action.REJECT or f.halt for f in findings)
        if kept and (reference is None or item.ts_ms > reference[0]):
            reference = (item.ts_ms, item.import_wh)
    return found, state


def _energy_and_current(
    rng: random.Random, fault: float, step: int, index: int
) -> tuple[float, float]:
    energy = rng.uniform(50.0, 400.0)
    amps = round(energy * 2 / 230, 2)  # the interval's mean current
    if 0.30 < fault < 0.36 or (step % 60 in range(10, 24) and index == 0):
        energy = amps = 0.0  # zero run
    if step % 70 in range(30, 36) and index == 2:
        energy = 0.0  # stuck register: current flows, nothing counted
    if 0.36 < fault < 0.38:
        energy *= 40  # spike
    return energy, amps


def _volts(rng: random.Random, fault: float, step: int, index: int) -> tuple[float]:
    if 0.45 < fault < 0.50 or (step % 50 in range(20, 24) and index == 1):
        return (round(rng.choice([195.0, 201.5, 258.0, 262.0]), 1),)
    return (round(rng.gauss(230, 3), 1),)


def faulty_stream(seed: int = 7, meters: int = 3, intervals: int = 240) -> list[Reading]:
    """Half-hourly readings of a few meters with duplicates, gaps, late and off-grid reads,
    register decreases and resets, spikes, zero runs, stuck registers and voltage
    excursions."""
    rng = random.Random(seed)
    out: list[Reading] = []
    registers = [rng.uniform(1e5, 1e6) for _ in range(meters)]
    held_back: list[Reading] = []
    for step in range(intervals):
        when = DAY + timedelta(minutes=30 * step)
        for index in range(meters):
            fault = rng.random()
            energy, amps = _energy_and_current(rng, fault, step, index)
            registers[index] += energy
            wh = registers[index]
            if 0.38 < fault < 0.40:
                wh = max(wh - 5_000.0, 0.0)  # a decrease
            if 0.40 < fault < 0.405:
                wh = registers[index] = rng.uniform(0, 500)  # reset
            shift = timedelta(minutes=rng.choice([7, 13, 16]) if 0.41 < fault < 0.45 else 0)
            item = Reading(
                meter_id=f"M{index + 1}",
                ts=when + shift,
                seq=step,
                import_wh=round(wh, 1),
                voltage_v=_volts(rng, fault, step, index),
                current_a=(amps,),
            )
            if fault < 0.08:
                continue  # missing
            if fault < 0.12:
                held_back.append(item)  # arrives late
                continue
            out.append(item)
            if fault > 0.95:
                out.append(item)  # redelivered
            if 0.93 < fault <= 0.95:
                conflicting = item.model_copy(update={"import_wh": round(wh + 10.0, 1)})
                out.append(conflicting)
        if held_back and rng.random() < 0.3:
            out.append(held_back.pop(0))
    return out
