"""What goes out: the emission of one interval, raw messages, readings held back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inject.faults.ground_truth import FaultLog
from inject.faults.kinds import FaultKind
from smart_meter.reading import Reading


@dataclass(frozen=True)
class RawMessage:
    """Bytes published as they are, on the partition subject of ``meter_id``.

    ``kind`` says why: a malformed message, or the second copy of a duplicate.
    """

    kind: FaultKind
    meter_id: str
    payload: bytes
    msg_id: str


@dataclass
class Emission:
    """What to send for one interval: ``readings`` (in this order), then ``raw`` messages."""

    when: datetime
    readings: list[Reading] = field(default_factory=list)
    raw: list[RawMessage] = field(default_factory=list)


@dataclass(frozen=True)
class _Held:
    release_step: int
    held_step: int
    kind: FaultKind
    reading: Reading


class HeldReadings:
    """Readings held back (late, out of order), released after a later interval's readings."""

    def __init__(self, log: FaultLog, interval_s: int) -> None:
        self.log = log
        self.interval_s = interval_s
        self._held: list[_Held] = []

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, kind: FaultKind, reading: Reading, step: int, delay_intervals: int) -> None:
        self._held.append(_Held(step + delay_intervals, step, kind, reading))

    def release(self, step: int, emission: Emission) -> None:
        """Send (after this interval's readings) every reading due by ``step``."""
        due = [held for held in self._held if held.release_step <= step]
        if due:
            self._held = [held for held in self._held if held.release_step > step]
            self._send(due, step, emission, released_at_end=False)

    def drain(self, step: int, emission: Emission) -> None:
        """Send everything still held: the run ends before its planned delay."""
        self._send(self._held, step, emission, released_at_end=True)
        self._held = []

    def _send(self, due: list[_Held], step: int, emission: Emission, released_at_end: bool) -> None:
        for held in due:
            emission.readings.append(held.reading)
            delay = step - held.held_step
            details: dict[str, Any] = {"delay_intervals": delay, "delay_s": delay * self.interval_s}
            if released_at_end:
                details["released_at_end"] = True
            ts = held.reading.ts
            self.log.record(held.kind, held.reading.meter_id, ts, ts, details)
