"""The fault kinds the injector knows, what each does exactly, and how they group.

``start``/``end`` of a ground-truth record are the event times the affected readings
carry (for dropped readings: the grid times they would have carried), inclusive.

Arrival
    ``missing``: one meter sends nothing for 1-6 intervals (``missing_intervals``).
    ``transformer_dark``: every meter of a transformer sends nothing for 2-8 intervals;
    one record per meter, ``details.transformer_id``; the same periods in every replica.
    ``late``: the reading is held back k >= 2 intervals (1 + geometric, mean
    ``late_delay_intervals_mean``, capped) and sent after interval t+k's readings.
    ``out_of_order``: held back exactly one interval, sent right after its successor.
    ``duplicate_identical`` / ``duplicate_conflicting``: the reading is sent, then a
    second message with the same (meter, ts): the same fields, or a register shifted by
    1-50 Wh and voltage +1.5 V. The copy has its own message id (``<meter>@<ms>~copy``)
    so JetStream keeps it, as it would a head-end's re-send in another batch.
Time
    ``irregular_sampling``: one timestamp off the grid by 5-45 % of the interval.
    ``clock_skew``: 2-6 consecutive timestamps shifted by the same 5-600 s (capped at
    45 % of the interval), then back on the grid.
Register (the shown register continues from where the fault leaves it)
    ``register_decrease``: the register goes 50-5000 Wh below the previous reading, never
    below the register rule's reset level (``detection.reset_below_wh``, 1000 Wh): the
    drop is drawn up to the room above it, and a meter with less room (just after a
    reset or a wrap) gets no decrease. A fall to below that level is a reset, and is
    only injected, and labelled, as ``reset``.
    ``reset``: the register shows 0, then counts up from 0.
    ``rollover``: the register wraps at ``register_modulus_wh``; chosen meters start just
    below it. Recorded at the first reading sent after the wrap.
    ``spike``: one interval's average power is 10-30 x the meter's baseline power
    (current scaled alike). The baseline is the highest of what the spike rule compares
    with (the median power of the intervals with energy it remembers, or of the latest
    ``detection.spike_recent_intervals`` of them), the median of the meter's latest
    ``spike_history_intervals`` (6) intervals, and ``spike_min_power_w / spike_ratio``,
    so the spike clears the rule's ratio and minimum power. Injected only once the rule
    has ``detection.spike_min_history`` intervals with energy (the injector follows what
    the rule remembers of the readings sent: stuck, zero, dropped, malformed and late
    readings add none), and 6 intervals after the meter's start or its last spike.
    ``flat_line``: the register stays at the previous reading's value for 4-8
    intervals while current still flows; that energy is never registered.
    ``zero_run``: as flat line, 12-24 intervals, with zero current (no load).
Voltage (EN 50160 band 207-253 V)
    ``voltage_sag`` / ``voltage_swell``: one reading at 180-205 V / 255-275 V.
    ``sustained_undervoltage`` / ``sustained_overvoltage``: 3-8 consecutive readings at
    195-205 V / 255-262 V.
Malformed (raw bytes that replace the meter's reading of that interval;
``details.payload`` holds them exactly, so dead-lettered bytes can be matched)
    ``malformed_json`` (cut short), ``malformed_missing_field`` (meter_id, ts or
    import_wh), ``malformed_wrong_type`` (e.g. ``"123.4 Wh"``), ``malformed_nan``
    (``"NaN"``), ``malformed_absurd_value`` (1e15 Wh, a negative register, 5 kV, 900 °C,
    year 2150), ``malformed_unknown_version`` (v 0, 2 or 99).

Faults never overlap on a meter; each one is followed by ``cooldown_intervals`` clean ones.
"""

from __future__ import annotations

from enum import StrEnum


class FaultKind(StrEnum):
    """One kind of fault; its value is the ``kind`` written to the ground truth."""

    MISSING = "missing"
    TRANSFORMER_DARK = "transformer_dark"
    LATE = "late"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE_IDENTICAL = "duplicate_identical"
    DUPLICATE_CONFLICTING = "duplicate_conflicting"
    IRREGULAR_SAMPLING = "irregular_sampling"
    CLOCK_SKEW = "clock_skew"
    REGISTER_DECREASE = "register_decrease"
    ROLLOVER = "rollover"
    RESET = "reset"
    SPIKE = "spike"
    FLAT_LINE = "flat_line"
    ZERO_RUN = "zero_run"
    VOLTAGE_SAG = "voltage_sag"
    VOLTAGE_SWELL = "voltage_swell"
    SUSTAINED_UNDERVOLTAGE = "sustained_undervoltage"
    SUSTAINED_OVERVOLTAGE = "sustained_overvoltage"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_MISSING_FIELD = "malformed_missing_field"
    MALFORMED_WRONG_TYPE = "malformed_wrong_type"
    MALFORMED_NAN = "malformed_nan"
    MALFORMED_ABSURD_VALUE = "malformed_absurd_value"
    MALFORMED_UNKNOWN_VERSION = "malformed_unknown_version"


MALFORMED_KINDS = frozenset(kind for kind in FaultKind if kind.startswith("malformed_"))
# Not drawn per meter and interval: darkness is scheduled per transformer, and rollover
# candidates are chosen once per meter (their register starts just below the modulus).
SCHEDULED_KINDS = frozenset({FaultKind.TRANSFORMER_DARK, FaultKind.ROLLOVER})
METER_KINDS = tuple(kind for kind in FaultKind if kind not in SCHEDULED_KINDS)
# Faults that hold a register still: the energy of those intervals is never registered.
STUCK_KINDS = frozenset({FaultKind.FLAT_LINE, FaultKind.ZERO_RUN})
DROPPING_KINDS = frozenset({FaultKind.MISSING, FaultKind.TRANSFORMER_DARK})
SUSTAINED_VOLTAGE_KINDS = frozenset(
    {FaultKind.SUSTAINED_UNDERVOLTAGE, FaultKind.SUSTAINED_OVERVOLTAGE}
)
