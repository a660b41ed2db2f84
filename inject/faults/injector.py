"""The fault injector: the fleet's clean intervals in, what is actually sent out.

Per interval it takes every meter's clean reading and returns an :class:`Emission`: the
readings to publish (possibly changed, some held back from earlier intervals) and raw
messages (malformed ones, and the second copy of a duplicate, which is its own message
with its own dedup id so JetStream does not swallow it). Every fault goes to the ground
truth once it is over. Faults never overlap on one meter: after each one the meter stays
clean for ``cooldown_intervals``, and meter faults keep clear of the dark periods
scheduled for their transformer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from inject.faults import detectable, effects, shaping
from inject.faults.config import FaultConfig
from inject.faults.darkness import DarkSchedule
from inject.faults.ground_truth import FaultLog, RecordSink
from inject.faults.kinds import DROPPING_KINDS, MALFORMED_KINDS, METER_KINDS, FaultKind
from inject.faults.malformed import MAKERS
from inject.faults.sending import Emission, HeldReadings, RawMessage
from inject.faults.state import ActiveFault, MeterState
from smart_meter.codec import encode_reading
from smart_meter.reading import Reading


class FaultInjector:
    """Deterministic for (config, interval_s, seed, stream) and the same clean input.

    ``stream`` separates the random draws of injector replicas that share a seed; the
    transformer darkness schedule depends on ``seed`` only, so all replicas agree on it.
    """

    def __init__(
        self,
        config: FaultConfig,
        interval_s: int,
        seed: int,
        stream: int = 0,
        on_fault: RecordSink | None = None,
    ) -> None:
        self.config = config
        self.interval_s = interval_s
        self.rng = np.random.default_rng([seed, stream])
        self.log = FaultLog(on_fault)
        self.dark = DarkSchedule(
            config.rate(FaultKind.TRANSFORMER_DARK),
            config.dark_intervals,
            config.longest_fault_intervals,
            seed,
            interval_s,
        )
        self._kinds = [kind for kind in METER_KINDS if config.rate(kind) > 0]
        rates = np.array([config.rate(kind) for kind in self._kinds])
        self._start_probability = min(1.0, float(rates.sum()))
        self._kind_shares = rates / rates.sum() if self._kinds else rates
        self._meters: dict[str, MeterState] = {}
        self._held = HeldReadings(self.log, interval_s)
        self._step = 0
        self._last_when: datetime | None = None

    @property
    def counts(self) -> Counter[FaultKind]:
        """Faults recorded so far, by kind."""
        return self.log.counts

    def inject(self, when: datetime, readings: Sequence[Reading]) -> Emission:
        """Turn one interval's clean readings into what is sent in that interval."""
        step = self._step
        states = self._states_of(readings, step, when)
        drawn = self._draw_starts(len(readings))
        emission = Emission(when)
        for position, (reading, state) in enumerate(zip(readings, states, strict=True)):
            self._one(step, reading, state, drawn.get(position), emission)
        self._held.release(step, emission)
        self._step, self._last_when = step + 1, when
        return emission

    def drain(self) -> Emission:
        """After the last interval: send what is still held back, close open faults."""
        when = (self._last_when or datetime.min.replace(tzinfo=UTC)) + timedelta(
            seconds=self.interval_s
        )
        emission = Emission(when)
        self._held.drain(self._step, emission)
        for state in self._meters.values():
            self._close(state)
        return emission

    def _states_of(
        self, readings: Sequence[Reading], step: int, when: datetime
    ) -> list[MeterState]:
        fresh = [reading for reading in readings if reading.meter_id not in self._meters]
        if fresh:
            self._adopt(fresh, step)
        new_transformers = {self._meters[r.meter_id].transformer_id for r in fresh}
        self.dark.plan(step, when, {tid for tid in new_transformers if tid is not None})
        return [self._meters[reading.meter_id] for reading in readings]

    def _adopt(self, readings: Sequence[Reading], step: int) -> None:
        """Meet new meters; some become rollover candidates (register just below the modulus)."""
        draws = self.rng.random(len(readings))
        modulus_wh = self.config.register_modulus_wh
        for reading, draw in zip(readings, draws, strict=True):
            transformer_id = reading.grid.transformer_id if reading.grid else None
            state = MeterState(reading.meter_id, transformer_id)
            state.spike_ready_step = step + self.config.spike_history_intervals
            if draw < self.config.rate(FaultKind.ROLLOVER):
                shaping.near_modulus(state, reading, self.config, self.rng, self.interval_s)
            state.wraps = int((reading.import_wh + state.offset_wh) // modulus_wh)
            self._meters[reading.meter_id] = state

    def _draw_starts(self, count: int) -> dict[int, FaultKind]:
        """Which meters (by position) draw a fault this interval, and of which kind."""
        if not self._kinds:
            return {}
        chosen = np.flatnonzero(self.rng.random(count) < self._start_probability)
        kinds = self.rng.choice(len(self._kinds), size=len(chosen), p=self._kind_shares)
        return {int(p): self._kinds[int(k)] for p, k in zip(chosen, kinds, strict=True)}

    def _one(
        self,
        step: int,
        reading: Reading,
        state: MeterState,
        drawn: FaultKind | None,
        emission: Emission,
    ) -> None:
        """One meter in one interval: close, start, shape, then send, hold or drop."""
        if state.active is not None and state.active.end_step <= step:
            self._close(state)
        self._enter_dark(state, step)
        start = self._start_if_possible(drawn, step, state, reading)
        kind = start.kind if start else None
        details: dict[str, Any] = dict(start.details) if start else {}
        config, rng = self.config, self.rng
        before_wh = state.advance(reading.import_wh)
        shaping.shape_register(kind, state, before_wh, details, config, rng, reading.ts_ms)
        changes: dict[str, Any] = {}
        shown_wh = state.shown_wh(config.register_modulus_wh)
        if shown_wh != reading.import_wh:
            changes["import_wh"] = shown_wh
        shaping.apply_active(state, reading, changes, config, rng)
        shaping.apply_instant(kind, reading, changes, details, config, rng, self.interval_s)
        shown = reading.model_copy(update=changes) if changes else reading
        if state.active is not None:
            state.active.touch(shown.ts)
        self._route(kind, step, state, shown, details, emission)

    def _close(self, state: MeterState) -> None:
        active, state.active = state.active, None
        if active is None or active.first_ts is None or active.last_ts is None:
            return
        details = {**active.details, "intervals": active.count}
        self.log.record(active.kind, state.meter_id, active.first_ts, active.last_ts, details)

    def _enter_dark(self, state: MeterState, step: int) -> None:
        if self.dark.rate == 0 or state.active is not None:
            return
        window = self.dark.window_at(state.transformer_id, step)
        if window is not None:
            details = {"transformer_id": state.transformer_id}
            state.active = ActiveFault(FaultKind.TRANSFORMER_DARK, window[1], details)

    def _start_if_possible(
        self, drawn: FaultKind | None, step: int, state: MeterState, reading: Reading
    ) -> effects.Start | None:
        if drawn is None or not state.is_free(step) or not self._possible(drawn, state, reading):
            return None
        start = effects.draw_start(drawn, self.config, self.rng, self.interval_s)
        busy_until = step + start.span_intervals + self.config.cooldown_intervals
        if self.dark.overlaps(state.transformer_id, step, busy_until):
            return None
        state.busy_until = busy_until
        if drawn is FaultKind.SPIKE:
            state.spike_ready_step = step + self.config.spike_history_intervals
        if drawn in effects.PERIOD_KINDS:
            state.active = ActiveFault(drawn, step + start.span_intervals, dict(start.details))
        return start

    def _possible(self, kind: FaultKind, state: MeterState, reading: Reading) -> bool:
        if kind in effects.NEEDS_PREVIOUS_SENT and state.last_sent_step != self._step - 1:
            return False
        if kind in effects.NEEDS_VOLTAGE and reading.voltage_v is None:
            return False
        limits = self.config.detection
        if kind is FaultKind.SPIKE:
            return self._step >= state.spike_ready_step and state.seen.judges_spikes(limits)
        if kind is FaultKind.REGISTER_DECREASE:
            shown_before_wh = state.last_sent_wh or 0.0
            return detectable.can_decrease(shown_before_wh, self.config.decrease_wh, limits)
        if kind is FaultKind.RESET:
            return (state.last_sent_wh or 0.0) >= 1.0
        return True

    def _route(
        self,
        kind: FaultKind | None,
        step: int,
        state: MeterState,
        reading: Reading,
        details: dict[str, Any],
        emission: Emission,
    ) -> None:
        if state.active is not None and state.active.kind in DROPPING_KINDS:
            return
        if kind in MALFORMED_KINDS:
            self._send_malformed(kind, reading, emission)
        elif kind in effects.HELD_KINDS:
            self._held.hold(kind, reading, step, details["delay_intervals"])
        else:
            self._send(step, state, reading, emission)
            if kind in effects.DUPLICATE_KINDS:
                self._send_copy(kind, reading, emission)
            elif kind is not None and kind not in effects.PERIOD_KINDS:
                self.log.record(kind, reading.meter_id, reading.ts, reading.ts, details)

    def _send(self, step: int, state: MeterState, reading: Reading, emission: Emission) -> None:
        emission.readings.append(reading)
        if state.wrap_pending:
            self._show_wrap(step, state, reading)
        state.note_sent(step, reading.import_wh)
        state.seen.see(reading.ts_ms, reading.import_wh, self.config.detection.spike_history_size)

    def _show_wrap(self, step: int, state: MeterState, reading: Reading) -> None:
        """The first reading sent after a wrap shows it; with none sent before, nobody can tell."""
        if state.wrap_from_wh is not None:
            details = {
                "from_wh": state.wrap_from_wh,
                "to_wh": reading.import_wh,
                "register_modulus_wh": self.config.register_modulus_wh,
            }
            self.log.record(FaultKind.ROLLOVER, reading.meter_id, reading.ts, reading.ts, details)
        state.wrap_pending = False
        if state.rollover_candidate:
            state.rollover_candidate = False
            state.busy_until = max(state.busy_until, step + 1 + self.config.cooldown_intervals)

    def _send_copy(self, kind: FaultKind, reading: Reading, emission: Emission) -> None:
        copy, details = reading, {}
        if kind is FaultKind.DUPLICATE_CONFLICTING:
            copy, shift_wh = effects.conflicting_copy(reading, self.config, self.rng)
            details = {"import_wh": [reading.import_wh, copy.import_wh], "shift_wh": shift_wh}
        msg_id = f"{reading.meter_id}@{reading.ts_ms}~copy"
        emission.raw.append(RawMessage(kind, reading.meter_id, encode_reading(copy), msg_id))
        self.log.record(kind, reading.meter_id, reading.ts, reading.ts, details)

    def _send_malformed(self, kind: FaultKind, reading: Reading, emission: Emission) -> None:
        payload, problem = MAKERS[kind](reading, self.rng)
        msg_id = f"{kind.value}:{reading.meter_id}@{reading.ts_ms}"
        emission.raw.append(RawMessage(kind, reading.meter_id, payload, msg_id))
        details = {"problem": problem, "payload": payload.decode(), "replaces_reading": True}
        self.log.record(kind, reading.meter_id, reading.ts, reading.ts, details)
