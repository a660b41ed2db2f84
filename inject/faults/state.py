"""Per-meter state of the injector: the register as the meter shows it, and the fault on it.

The meter's true register (from the fleet) only moves forward. What the meter *shows* is
``true + offset_wh``, wrapped at the register modulus: a reset, a decrease or a spike
moves the offset once, a stuck register moves it by every interval's energy, so the
shown register always continues from where the fault left it. ``seen`` follows what the
spike rule remembers of the readings sent (:class:`inject.faults.detectable.SeenIntervals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inject.faults.detectable import SeenIntervals
from inject.faults.kinds import STUCK_KINDS, FaultKind

NEVER = -2


@dataclass(slots=True)
class ActiveFault:
    """A fault that spans intervals on one meter, until step ``end_step`` (exclusive)."""

    kind: FaultKind
    end_step: int
    details: dict[str, Any]
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    count: int = 0

    def touch(self, ts: datetime) -> None:
        """Note one reading (sent or dropped) the fault affected."""
        self.first_ts = self.first_ts or ts
        self.last_ts = ts
        self.count += 1


@dataclass(slots=True)
class MeterState:
    """What the injector remembers about one meter."""

    meter_id: str
    transformer_id: str | None
    offset_wh: float = 0.0
    last_true_wh: float | None = None
    register_wh: float = 0.0  # shown register before wrapping, of the latest reading
    wraps: int = 0
    busy_until: int = 0
    spike_ready_step: int = 0  # no spike before: the meter needs a history to stand out from
    active: ActiveFault | None = None
    rollover_candidate: bool = False
    wrap_pending: bool = False  # the register wrapped; no sent reading has shown it yet
    wrap_from_wh: float | None = None
    last_sent_wh: float | None = None
    last_shown_wh: float | None = None
    last_sent_step: int = NEVER
    seen: SeenIntervals = field(default_factory=SeenIntervals)

    def is_free(self, step: int) -> bool:
        return self.active is None and self.busy_until <= step and not self.rollover_candidate

    def advance(self, true_wh: float) -> float:
        """Take the meter's next true register; return the shown register before it."""
        before = self.register_wh
        stuck = self.active is not None and self.active.kind in STUCK_KINDS
        if stuck and self.last_true_wh is not None:
            self.offset_wh -= true_wh - self.last_true_wh
        self.last_true_wh = true_wh
        self.register_wh = true_wh + self.offset_wh
        return before

    def move_register(self, register_wh: float) -> None:
        """Make the shown register ``register_wh`` now; it continues from there."""
        self.offset_wh += register_wh - self.register_wh
        self.register_wh = register_wh

    def shown_wh(self, modulus_wh: float) -> float:
        """The register as displayed (wrapped at ``modulus_wh``); notes a new wrap.

        Untouched registers pass exactly as the fleet made them; a stuck one repeats the
        exact value shown before; any other shifted one is rounded to 0.1 Wh.
        """
        wraps = int(self.register_wh // modulus_wh)
        if wraps > self.wraps:
            self.wrap_pending, self.wrap_from_wh = True, self.last_sent_wh
        self.wraps = wraps
        stuck = self.active is not None and self.active.kind in STUCK_KINDS
        if stuck and self.last_shown_wh is not None:
            return self.last_shown_wh
        value = self.register_wh - wraps * modulus_wh
        self.last_shown_wh = value if self.offset_wh == 0.0 and wraps == 0 else round(value, 1)
        return self.last_shown_wh

    def note_sent(self, step: int, shown_wh: float) -> None:
        if step >= self.last_sent_step:
            self.last_sent_step, self.last_sent_wh = step, shown_wh
