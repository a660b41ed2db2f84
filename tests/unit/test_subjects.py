"""Partitioning and dedup ids: stable, order-insensitive, distinct."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smart_meter.subjects import dedup_id, partition_of, subject_for_meter


def test_partition_is_stable_across_processes() -> None:
    # CRC-32 of the id: a fixed value, not Python's per-process salted hash().
    # Pinned values: other services (and other languages) must compute the same partition.
    assert partition_of("M0000001", 16) == 4
    assert subject_for_meter("M0000001", 16) == "meter.readings.4"


def test_partitions_spread_a_fleet_evenly() -> None:
    counts = [0] * 16
    for i in range(16_000):
        counts[partition_of(f"M{i:07d}")] += 1
    assert min(counts) > 800 and max(counts) < 1200


def test_single_reading_dedup_id_is_meter_at_epoch_ms() -> None:
    assert dedup_id([("M1", 1_704_103_200_000)]) == "M1@1704103200000"


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=8), st.integers(0, 2**45)), min_size=2, unique=True
    )
)
def test_batch_dedup_id_ignores_order_but_not_content(keys: list[tuple[str, int]]) -> None:
    assert dedup_id(keys) == dedup_id(list(reversed(keys)))
    assert dedup_id(keys) != dedup_id([*keys[:-1], (keys[-1][0], keys[-1][1] + 1)])
