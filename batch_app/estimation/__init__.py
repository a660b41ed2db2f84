"""VEE estimation: fill a meter's gaps with estimated readings, flagged ``E`` with a method.

Pure pandas/numpy, one meter at a time (:func:`estimate_meter`), so the Spark job calls it
through ``applyInPandas`` and the tests call it without Spark. Every method only decides
how a gap's energy is *shared* among its intervals; the register difference across the
gap decides how much there is, so estimates always add up to what the meter counted.

Defaults (:class:`MethodPolicy`), chosen from the measured accuracy
(``python -m bench.estimation_accuracy``; the table is in the README under "Estimation
accuracy"; relative MAE per half-hour, UCI house / simulated fleet):

- gaps up to 2 hours (``linear_limit_ms``, 1 to 4 half-hours): **linear**. Best or tied on
  both data sets: 13/15 %, 15/18 %, 20/21 % against like-day's 18/16 %, 21/18 %, 26/20 %.
- longer gaps: **like_day** (mean of up to 4 nearest valid same-weekday days, back and
  forward), falling back to linear without a valid like day. On the fleet it halves the
  error of linear from 12 hours on (21 % vs 42 % at 24 half-hours, 23 % vs 48 % at 48)
  and already wins at 4 hours (20 % vs 25 %). On the one real house linear stays ahead
  (4 h: 28 % vs 37 %; 12 h: 41 % vs 44 %; 24 h: 49 % vs 53 %): a single household's
  half-hours are spiky and a flat estimate is what minimises their absolute error, and
  its 26 days give at most 3 like days. The fleet is 50 meters, the house one, so the
  fleet decides; ``MethodPolicy(long_gap=Method.LINEAR)`` is the other choice.
- **seasonal_naive** (same time last week) is a baseline: worse than like-day at every
  length on both data sets, never a default.

Biases are within ±1 % everywhere: scaling to the register difference removes them.
"""

from batch_app.estimation.grid import Gap, TooFewReadingsError, find_gaps, infer_interval_ms
from batch_app.estimation.meter import (
    ESTIMATE_COLUMNS,
    ESTIMATE_SCHEMA,
    ESTIMATED_QUALITY,
    MethodPolicy,
    empty_estimates,
    estimate_meter,
)
from batch_app.estimation.methods import Method

__all__ = [
    "ESTIMATED_QUALITY",
    "ESTIMATE_COLUMNS",
    "ESTIMATE_SCHEMA",
    "Gap",
    "Method",
    "MethodPolicy",
    "TooFewReadingsError",
    "empty_estimates",
    "estimate_meter",
    "find_gaps",
    "infer_interval_ms",
]
