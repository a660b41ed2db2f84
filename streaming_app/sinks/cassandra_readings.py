"""Stored readings with their quality flags, to both reading tables.

A reading is stored unless it was rejected or is a duplicate: an identical one is
already stored, and a conflicting one must not overwrite the raw values recorded
first (it is an alert instead). Readings without a transformer are only in the
meter table. ``ingested_at`` is the batch's processing time, so rewriting the same
batch writes the same rows.
"""

from __future__ import annotations

from typing import Any

from smart_meter.storage.binding import unset_if_none
from smart_meter.storage.reading_columns import (
    BY_METER_KEY,
    BY_METER_TABLE,
    BY_TRANSFORMER_KEY,
    BY_TRANSFORMER_TABLE,
    READING_FLAG_COLUMNS,
)
from streaming_app.processed import CheckedReading, ProcessedBatch
from streaming_app.rules.engine import Status
from streaming_app.rules.events import DuplicateEvent
from streaming_app.sinks.cassandra_rows import DAY_MS, Insert, Write, day_of

BY_METER = Insert(BY_METER_TABLE, BY_METER_KEY + READING_FLAG_COLUMNS)
BY_TRANSFORMER = Insert(BY_TRANSFORMER_TABLE, BY_TRANSFORMER_KEY + READING_FLAG_COLUMNS)
_STORED_STATUSES = frozenset({Status.ACCEPTED, Status.FLAGGED})


def is_stored(checked: CheckedReading) -> bool:
    """Whether the reading belongs in the reading tables."""
    verdict = checked.verdict
    if verdict.status not in _STORED_STATUSES:
        return False
    findings = verdict.findings
    return not findings or not any(isinstance(f.event, DuplicateEvent) for f in findings)


def flag_values(checked: CheckedReading, ingested_at_ms: int) -> tuple[Any, ...]:
    """The values of :data:`READING_FLAG_COLUMNS`: the reading's fields and its quality flags."""
    reading, verdict = checked.reading, checked.verdict
    grid = reading.grid
    return (
        unset_if_none(reading.seq),
        reading.import_wh,
        unset_if_none(reading.voltage_v and list(reading.voltage_v)),
        unset_if_none(reading.current_a and list(reading.current_a)),
        unset_if_none(reading.temperature_c),
        unset_if_none(grid and grid.line_id),
        unset_if_none(grid and grid.usage_point_id),
        verdict.quality.value,
        unset_if_none(set(verdict.failed_rules) or None),
        verdict.lateness.value,
        verdict.status.value,
        ingested_at_ms,
    )


def reading_writes(batch: ProcessedBatch) -> list[Write]:
    """The reading rows of a batch: two per stored reading with a transformer, one without."""
    writes: list[Write] = []
    for checked in batch.readings:
        if is_stored(checked):
            writes.extend(_reading_writes(checked, batch.processed_ms))
    return writes


def _reading_writes(checked: CheckedReading, ingested_at_ms: int) -> list[Write]:
    reading = checked.reading
    ts_ms, meter_id = checked.verdict.ts_ms, reading.meter_id
    day_index, day = ts_ms // DAY_MS, day_of(ts_ms)
    flags = flag_values(checked, ingested_at_ms)
    transformer_id = reading.grid.transformer_id if reading.grid else None
    by_meter = (meter_id, day, ts_ms, unset_if_none(transformer_id), *flags)
    writes = [Write(BY_METER, by_meter, ("m", meter_id, day_index))]
    if transformer_id is not None:
        by_transformer = (transformer_id, day, meter_id, ts_ms, *flags)
        writes.append(Write(BY_TRANSFORMER, by_transformer, ("t", transformer_id, day_index)))
    return writes
