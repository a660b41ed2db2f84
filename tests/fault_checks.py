"""Check a ground truth against what was actually sent, in both directions.

``problems(records, payloads, interval_s, modulus_wh, reset_below_wh)`` returns a list
of readable problems (empty when all is well):

* every record is visible in the messages (a ``missing`` record: no reading there; a
  ``register_decrease``: the register went down, to ``reset_below_wh`` or above, else it
  would be a reset; a malformed one: those exact bytes arrived and cannot be decoded; ...);
* every anomaly in the messages is explained by a record (no unlabelled gap, duplicate,
  off-grid time, out-of-band voltage, falling or stuck register, late arrival or
  undecodable message).

``payloads`` are the message bodies in arrival order (one meter's messages keep their
order on the wire, so per-meter arrival order is what counts).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from statistics import median

from inject.faults import FaultKind, FaultRecord
from smart_meter.codec import ReadingError, decode_message
from smart_meter.reading import Reading

LOW_V, HIGH_V = 207.0, 253.0


def _below_band(volts: Sequence[float]) -> bool:
    return max(volts) < LOW_V


def _above_band(volts: Sequence[float]) -> bool:
    return min(volts) > HIGH_V


VOLTAGE_KINDS: dict[FaultKind, Callable[[Sequence[float]], bool]] = {
    FaultKind.VOLTAGE_SAG: _below_band,
    FaultKind.VOLTAGE_SWELL: _above_band,
    FaultKind.SUSTAINED_UNDERVOLTAGE: _below_band,
    FaultKind.SUSTAINED_OVERVOLTAGE: _above_band,
}
GAP_KINDS = {FaultKind.MISSING, FaultKind.TRANSFORMER_DARK}
REGISTER_DOWN_KINDS = {FaultKind.REGISTER_DECREASE, FaultKind.RESET, FaultKind.ROLLOVER}
STUCK_KINDS = {FaultKind.FLAT_LINE, FaultKind.ZERO_RUN}
HELD_KINDS = {FaultKind.LATE, FaultKind.OUT_OF_ORDER}
SKEW_KINDS = {FaultKind.IRREGULAR_SAMPLING, FaultKind.CLOCK_SKEW}
DUPLICATE_KINDS = {FaultKind.DUPLICATE_IDENTICAL, FaultKind.DUPLICATE_CONFLICTING}
PLAUSIBLE_WRAP_WH = 100_000.0
RESET_BELOW_WH = 1_000.0  # the prod register rule's: a fall to below is a reset


@dataclass
class Observed:
    """The messages as a stream consumer sees them."""

    interval_s: int
    arrivals: list[Reading] = field(default_factory=list)
    undecodable: list[bytes] = field(default_factory=list)
    order: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, payloads: Iterable[bytes], interval_s: int) -> Observed:
        seen = cls(interval_s)
        for payload in payloads:
            try:
                decoded = decode_message(payload)
            except ReadingError:
                seen.undecodable.append(payload)
                continue
            assert not decoded.rejected, decoded.rejected
            for reading in decoded.readings:
                seen.order[reading.key].append(len(seen.arrivals))
                seen.arrivals.append(reading)
        return seen

    def meters(self) -> dict[str, list[Reading]]:
        """Each meter's readings by event time, first arrival of each key only."""
        by_meter: dict[str, list[Reading]] = defaultdict(list)
        for key, indexes in self.order.items():
            by_meter[key[0]].append(self.arrivals[indexes[0]])
        return {meter: sorted(rs, key=lambda r: r.ts_ms) for meter, rs in by_meter.items()}

    def at(self, meter_id: str, ts: datetime) -> list[Reading]:
        return [self.arrivals[i] for i in self.order.get((meter_id, _ms(ts)), [])]

    def on_grid(self, ts: datetime) -> bool:
        return _ms(ts) % (self.interval_s * 1000) == 0


def _fields(reading: Reading) -> dict[str, object]:
    """A reading's fields, whether it came alone (with its ``v``) or in a batch."""
    return reading.model_dump(exclude={"v"})


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _slots(record: FaultRecord, interval_s: int) -> list[datetime]:
    step, slots, ts = timedelta(seconds=interval_s), [], record.start
    while ts <= record.end:
        slots.append(ts)
        ts += step
    return slots


def _previous(meters: dict[str, list[Reading]], meter_id: str, ts: datetime) -> Reading | None:
    earlier = [r for r in meters.get(meter_id, []) if r.ts < ts]
    return earlier[-1] if earlier else None


# ---------------------------------------------------------------- ground truth → messages

Check = Callable[[FaultRecord, Observed, dict[str, list[Reading]], float], str | None]


def _gap(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    slots = _slots(record, seen.interval_s)
    if len(slots) != record.details["intervals"]:
        return f"{len(slots)} slots but intervals={record.details['intervals']}"
    present = [ts for ts in slots if seen.at(record.meter_id, ts)]
    return f"readings present at {present}" if present else None


def _held(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    indexes = seen.order.get((record.meter_id, _ms(record.start)), [])
    if len(indexes) != 1:
        return f"{len(indexes)} arrivals"
    horizon = record.start + timedelta(seconds=record.details["delay_s"])
    later = [
        seen.order[r.key][0] for r in meters[record.meter_id] if record.start < r.ts <= horizon
    ]
    if not later and not record.details.get("released_at_end"):
        return "no later reading arrived before it"
    if any(index > indexes[0] for index in later):
        return "a later reading arrived after it"
    return None


def _duplicate(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    copies = seen.at(record.meter_id, record.start)
    if len(copies) != 2:
        return f"{len(copies)} copies"
    identical = _fields(copies[0]) == _fields(copies[1])
    if identical != (record.kind is FaultKind.DUPLICATE_IDENTICAL):
        return f"copies identical={identical}"
    return None


def _off_grid(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    slots = _slots(record, seen.interval_s)
    expected = record.details.get("intervals", 1)
    if len(slots) != expected:
        return f"{len(slots)} readings spanned, {expected} expected"
    wrong = [ts for ts in slots if len(seen.at(record.meter_id, ts)) != 1 or seen.on_grid(ts)]
    return f"not one off-grid reading at {wrong}" if wrong else None


def _register_down(
    record: FaultRecord,
    seen: Observed,
    meters: dict[str, list[Reading]],
    modulus_wh: float,
    reset_below_wh: float = RESET_BELOW_WH,
) -> str | None:
    readings = seen.at(record.meter_id, record.start)
    before = _previous(meters, record.meter_id, record.start)
    if len(readings) != 1 or before is None:
        return f"{len(readings)} readings, or none before"
    reading = readings[0]
    if not reading.import_wh < before.import_wh:
        return f"register did not go down: {before.import_wh} -> {reading.import_wh}"
    if record.kind is FaultKind.RESET and reading.import_wh != 0.0:
        return f"reset to {reading.import_wh}, not 0"
    if record.kind is FaultKind.REGISTER_DECREASE and reading.import_wh < reset_below_wh:
        return f"decrease to {reading.import_wh}, below a reset's {reset_below_wh}"
    wrap_wh = reading.import_wh + modulus_wh - before.import_wh
    if record.kind is FaultKind.ROLLOVER and not 0 < wrap_wh < PLAUSIBLE_WRAP_WH:
        return f"not a plausible wrap: {before.import_wh} -> {reading.import_wh}"
    return None


def _spike(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    history = [r for r in meters[record.meter_id] if r.ts <= record.start]
    deltas = [b.import_wh - a.import_wh for a, b in itertools.pairwise(history)]
    if len(deltas) < 2 or history[-1].ts != record.start:
        return "no reading, or no history before it"
    if abs(deltas[-1] - record.details["interval_wh"]) > 0.2:
        return f"interval energy {deltas[-1]} != {record.details['interval_wh']}"
    if deltas[-1] < 4 * median(deltas[-7:-1]):
        return f"interval energy {deltas[-1]} not far above {deltas[-7:-1]}"
    return None


def _stuck(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    slots = _slots(record, seen.interval_s)
    readings = [r for ts in slots for r in seen.at(record.meter_id, ts)]
    before = _previous(meters, record.meter_id, record.start)
    if len(readings) != len(slots) or len(slots) != record.details["intervals"] or before is None:
        return f"{len(readings)} readings over {len(slots)} slots"
    if {r.import_wh for r in readings} != {before.import_wh}:
        return f"register moved: {before.import_wh} then {[r.import_wh for r in readings]}"
    zero = all(set(r.current_a or ()) == {0.0} for r in readings)
    if zero != (record.kind is FaultKind.ZERO_RUN):
        return f"current all zero={zero}"
    return None


def _voltage(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    slots = _slots(record, seen.interval_s)
    readings = [r for ts in slots for r in seen.at(record.meter_id, ts)]
    if len(readings) != len(slots) or (record.start != record.end) != (len(slots) > 1):
        return f"{len(readings)} readings over {len(slots)} slots"
    inside = VOLTAGE_KINDS[record.kind]
    wrong = [r.voltage_v for r in readings if not inside(r.voltage_v or (230.0,))]
    return f"voltages in band: {wrong}" if wrong else None


def _malformed(
    record: FaultRecord, seen: Observed, meters: dict[str, list[Reading]], _: float
) -> str | None:
    if record.details["payload"].encode() not in seen.undecodable:
        return "payload not among undecodable messages"
    return "a valid reading too" if seen.at(record.meter_id, record.start) else None


CHECKS: dict[FaultKind, Check] = {
    **dict.fromkeys(GAP_KINDS, _gap),
    **dict.fromkeys(HELD_KINDS, _held),
    **dict.fromkeys(DUPLICATE_KINDS, _duplicate),
    **dict.fromkeys(SKEW_KINDS, _off_grid),
    **dict.fromkeys(REGISTER_DOWN_KINDS, _register_down),
    **dict.fromkeys(STUCK_KINDS, _stuck),
    **dict.fromkeys(VOLTAGE_KINDS, _voltage),
    FaultKind.SPIKE: _spike,
    **{kind: _malformed for kind in FaultKind if kind.startswith("malformed_")},
}


# ---------------------------------------------------------------- messages → ground truth


def _covered(
    records: Sequence[FaultRecord], kinds: set[FaultKind], meter_id: str, ts: datetime
) -> bool:
    return any(
        r.kind in kinds and r.meter_id == meter_id and r.start <= ts <= r.end for r in records
    )


def _unexplained(
    records: Sequence[FaultRecord], seen: Observed, meters: dict[str, list[Reading]]
) -> list[str]:
    found: list[str] = []
    payloads = {r.details["payload"].encode() for r in records if "payload" in r.details}
    found += [f"unlabelled undecodable {p[:60]!r}" for p in seen.undecodable if p not in payloads]
    for (meter_id, _), indexes in seen.order.items():
        ts = seen.arrivals[indexes[0]].ts
        if len(indexes) > 1 and not _covered(records, DUPLICATE_KINDS, meter_id, ts):
            found.append(f"unlabelled duplicate {meter_id} {ts}")
    for reading in seen.arrivals:
        found += _reading_anomalies(records, seen, reading)
    for meter_id, readings in meters.items():
        found += _sequence_anomalies(records, seen, meter_id, readings)
    return found


def _reading_anomalies(
    records: Sequence[FaultRecord], seen: Observed, reading: Reading
) -> list[str]:
    found = []
    meter_id, ts = reading.meter_id, reading.ts
    if not seen.on_grid(ts) and not _covered(records, SKEW_KINDS, meter_id, ts):
        found.append(f"unlabelled off-grid {meter_id} {ts}")
    volts = reading.voltage_v or (230.0,)
    out_of_band = min(volts) < LOW_V or max(volts) > HIGH_V
    if out_of_band and not _covered(records, set(VOLTAGE_KINDS), meter_id, ts):
        found.append(f"unlabelled voltage {volts} {meter_id} {ts}")
    return found


def _sequence_anomalies(
    records: Sequence[FaultRecord], seen: Observed, meter_id: str, readings: list[Reading]
) -> list[str]:
    found = []
    for before, after in itertools.pairwise(readings):
        if after.import_wh < before.import_wh and not _covered(
            records, REGISTER_DOWN_KINDS, meter_id, after.ts
        ):
            found.append(f"unlabelled register decrease {meter_id} {after.ts}")
        if after.import_wh == before.import_wh and not _covered(
            records, STUCK_KINDS, meter_id, after.ts
        ):
            found.append(f"unlabelled stuck register {meter_id} {after.ts}")
        if seen.order[after.key][0] < seen.order[before.key][0] and not _covered(
            records, HELD_KINDS, meter_id, before.ts
        ):
            found.append(f"unlabelled late arrival {meter_id} {before.ts}")
        found += _gaps(records, seen, meter_id, before.ts, after.ts)
    return found


def _gaps(
    records: Sequence[FaultRecord], seen: Observed, meter_id: str, low: datetime, high: datetime
) -> list[str]:
    step = timedelta(seconds=seen.interval_s)
    slot = datetime.fromtimestamp(
        (_ms(low) // (seen.interval_s * 1000) + 1) * seen.interval_s, low.tzinfo
    )
    found = []
    while slot < high - step / 2:
        if slot - low >= step / 2:
            kinds = GAP_KINDS | {k for k in FaultKind if k.startswith("malformed_")}
            if not _covered(records, kinds, meter_id, slot):
                found.append(f"unlabelled gap {meter_id} {slot}")
        slot += step
    return found


def problems(
    records: Sequence[FaultRecord],
    payloads: Iterable[bytes],
    interval_s: int,
    modulus_wh: float,
    reset_below_wh: float = RESET_BELOW_WH,
) -> list[str]:
    """Every way the ground truth and the messages disagree (empty: they agree)."""
    seen = Observed.of(payloads, interval_s)
    meters = seen.meters()
    register_down = partial(_register_down, reset_below_wh=reset_below_wh)
    checks: dict[FaultKind, Check] = {**CHECKS, **dict.fromkeys(REGISTER_DOWN_KINDS, register_down)}
    found = []
    for record in records:
        problem = checks[record.kind](record, seen, meters, modulus_wh)
        if problem:
            found.append(f"{record.kind} {record.meter_id} {record.start}: {problem}")
    return found + _unexplained(records, seen, meters)
