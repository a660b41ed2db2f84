"""The pipeline benchmark's arithmetic: spreads, ratios, CPU per reading, capacity."""

from __future__ import annotations

import math

import pytest

from bench.pipeline_e2e import split_partitions
from bench.pipeline_stats import (
    CoreNeed,
    Spread,
    capacity,
    median_ratio,
    micros_per,
    per_second,
    ratio,
)
from bench.proc_cpu import CpuTrace
from smart_meter.storage.reading_columns import READING_TABLES
from streaming_app.sinks.cassandra_readings import BY_METER, BY_TRANSFORMER


def test_spread_is_min_median_max_of_the_finite_runs() -> None:
    spread = Spread.of([3_000.0, 1_000.0, math.nan, 2_500.0])
    assert (spread.low, spread.median, spread.high, spread.runs) == (1_000, 2_500, 3_000, 3)
    assert spread.text() == "2,500 (1,000-3,000)"
    assert Spread.of([4.0, 1.0]).median == 2.5


def test_an_empty_spread_says_so() -> None:
    empty = Spread.of([])
    assert empty.runs == 0 and math.isnan(empty.median)
    assert empty.text() == "-"
    assert empty.as_dict() == {"min": None, "median": None, "max": None, "runs": 0}


def test_rates_and_cpu_per_reading() -> None:
    assert per_second(24_000, 8.0) == 3_000
    assert math.isnan(per_second(0, 8.0)) and math.isnan(per_second(10, 0.0))
    # 13.44 CPU seconds over 24,000 readings: 560 µs each
    assert micros_per(13.44, 24_000) == pytest.approx(560)
    assert math.isnan(micros_per(1.0, 0))


def test_ratio_against_the_median_sink_limit() -> None:
    assert ratio(8_000, 10_000) == 0.8
    assert math.isnan(ratio(8_000, 0)) and math.isnan(ratio(math.nan, 1))
    spread = median_ratio([2_000, 3_000, 4_000], [9_000, 10_000, 14_000])
    assert (spread.low, spread.median, spread.high) == (0.2, 0.3, 0.4)


def test_capacity_is_rate_times_cost_over_utilisation_rounded_up() -> None:
    needs = capacity([20_000, 200_000], {"app": 560.0, "nats": 22.0}, utilisation=0.7)
    app_20k, nats_20k, app_200k, nats_200k = needs
    # 20,000/s × 560 µs = 11.2 busy cores; / 0.7 = 16 cores
    assert app_20k.busy_cores == pytest.approx(11.2)
    assert app_20k.cores == 16
    # 20,000 × 22 µs = 0.44 cores; / 0.7 = 0.63 -> 1 core
    assert nats_20k.cores == 1
    assert app_200k.cores == 160 and nats_200k.cores == 7
    assert "11.20 cores busy" in app_20k.arithmetic() and "= 16 cores" in app_20k.arithmetic()


def test_capacity_refuses_a_utilisation_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="utilisation"):
        capacity([1.0], {"app": 1.0}, utilisation=0.0)
    assert CoreNeed("x", 1.0, math.nan, 0.7).cores == 0


def test_partitions_are_split_round_robin_between_the_apps() -> None:
    assert split_partitions(16, 1) == [list(range(16))]
    four = split_partitions(16, 4)
    assert four[1] == [1, 5, 9, 13]
    assert sorted(p for owned in four for p in owned) == list(range(16))
    with pytest.raises(ValueError, match="--apps"):
        split_partitions(16, 17)


def test_the_sink_limit_writes_the_columns_the_app_writes() -> None:
    assert {
        "readings_by_meter_day": BY_METER.columns,
        "readings_by_transformer_day": BY_TRANSFORMER.columns,
    } == READING_TABLES
    assert (BY_METER.table, BY_TRANSFORMER.table) == tuple(READING_TABLES)


def test_a_cpu_trace_starts_its_window_at_a_moment_known_afterwards() -> None:
    trace = CpuTrace({"app": []})
    trace.samples = [(10.0, {"app": 1.0}), (10.5, {"app": 1.2}), (12.0, {"app": 3.0})]
    assert trace.at(10.7) == {"app": 1.2}
    assert trace.at(9.0) == {"app": 1.0}
    assert trace.spent_since(10.7) == {"app": pytest.approx(1.8)}
