"""Events as Cassandra rows: gaps, voltage episodes, readings too late, alerts.

Each table of :mod:`smart_meter.storage.schema` that events go to has its columns and a
row builder here; the catalogue's entries name the tables of each event type. Enums are
bound as their values (text columns). Partitions (for grouping rows into batches) are
tagged by table family so two tables' partitions never share a group by accident.
"""

from __future__ import annotations

import orjson

from smart_meter.reading import Reading
from smart_meter.storage.binding import unset_if_none
from smart_meter.storage.schema import event_bucket
from streaming_app.catalogue.vocabulary import AlertFields, RowValues, Table, TableRow
from streaming_app.rules.events import Event, Gap, GapClosed, LateEvent, VoltageEvent, event_record
from streaming_app.sinks.cassandra_rows import DAY_MS, day_of, month_of

ALERT_TABLE = "alerts_by_day"
ALERT_COLUMNS = (
    "day", "bucket", "kind", "start_ts", "meter_id",
    "end_ts", "value", "threshold", "unit", "detail",
)  # fmt: skip
GAP_COLUMNS = (
    "meter_id", "month", "start_ts", "end_ts", "missing_intervals", "open", "detected_by",
    "filled_at",
)  # fmt: skip
GAP_CLOSED_COLUMNS = (
    "meter_id", "month", "start_ts", "end_ts", "missing_intervals", "open", "filled_at",
)  # fmt: skip
VOLTAGE_COLUMNS = (
    "meter_id", "month", "start_ts", "end_ts", "min_v", "max_v", "direction", "duration",
    "readings", "ongoing",
)  # fmt: skip
LATE_COLUMNS = (
    "day", "bucket", "ts", "meter_id", "watermark", "lateness", "behind_ms", "reading",
)  # fmt: skip


def gap_row(gap: Gap, reading: Reading | None) -> RowValues:
    month = month_of(gap.start_ms)
    values = (
        gap.meter_id, month, gap.start_ms, gap.end_ms,
        gap.missing_intervals, gap.open, gap.detected_by.value, None,
    )  # fmt: skip
    return values, ("g", gap.meter_id, month)


def gap_closed_row(closed: GapClosed, reading: Reading | None) -> RowValues:
    """The gap's row marked filled (a piece left at the same start supersedes this)."""
    month = month_of(closed.start_ms)
    values = (
        closed.meter_id, month, closed.start_ms, closed.end_ms,
        closed.missing_intervals, False, closed.filled_at_ms,
    )  # fmt: skip
    return values, ("g", closed.meter_id, month)


def voltage_row(episode: VoltageEvent, reading: Reading | None) -> RowValues:
    month = month_of(episode.start_ms)
    values = (
        episode.meter_id, month, episode.start_ms, episode.end_ms, episode.min_v,
        episode.max_v, episode.direction.value, episode.duration.value, episode.readings,
        episode.ongoing,
    )  # fmt: skip
    return values, ("v", episode.meter_id, month)


def late_row(late: LateEvent, reading: Reading | None) -> RowValues:
    """A reading too late to process, with its payload."""
    day_index, bucket = late.ts_ms // DAY_MS, event_bucket(late.meter_id)
    payload = None if reading is None else reading.model_dump_json(exclude_none=True)
    values = (
        day_of(late.ts_ms), bucket, late.ts_ms, late.meter_id, late.watermark_ms,
        late.lateness.value, late.behind_ms, unset_if_none(payload),
    )  # fmt: skip
    return values, ("l", day_index, bucket)


def alert_row(event: Event, fields: AlertFields) -> TableRow:
    """The event as an alert of its day, with the whole event as JSON in ``detail``."""
    day_index, bucket = fields.start_ms // DAY_MS, event_bucket(event.meter_id)
    detail = orjson.dumps(event_record(event)).decode()
    values = (
        day_of(fields.start_ms), bucket, fields.kind.value, fields.start_ms, event.meter_id,
        fields.end_ms, unset_if_none(fields.value), unset_if_none(fields.threshold),
        unset_if_none(fields.unit), detail,
    )  # fmt: skip
    return TableRow(ALERT_TABLE, ALERT_COLUMNS, values, ("a", day_index, bucket))


GAPS = Table("gaps_by_meter", GAP_COLUMNS, gap_row)
GAPS_CLOSED = Table("gaps_by_meter", GAP_CLOSED_COLUMNS, gap_closed_row)
VOLTAGE_EPISODES = Table("voltage_events_by_meter", VOLTAGE_COLUMNS, voltage_row)
LATE_READINGS = Table("late_events_by_day", LATE_COLUMNS, late_row)
