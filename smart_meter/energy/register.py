"""Register limits that the streaming register rule and the batch energy jobs share.

A cumulative import register wraps at its capacity (a rollover: the consumption is still
known) and falls to near zero when a meter is replaced or reset; both sides must draw the
line in the same place, or the batch and the running totals count different energy.
"""

from __future__ import annotations

ROLLOVER_AT_WH = 1e8
"""Register capacity: a register of 5 kWh digits wraps at 1e8 Wh."""

RESET_BELOW_WH = 1_000.0
"""A register that falls to below this was reset (the meter replaced or cleared)."""

MAX_KW = 100.0
"""Physical limit of a connection: a register rising faster is no measurement, and a
rollover is believed only if the wrapped energy fits within it."""
