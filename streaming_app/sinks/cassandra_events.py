"""Events to their tables: gaps, voltage episodes, alerts, readings too late to process.

Within a batch only the last event of each natural key is written (the engine's
contract: a later event with the same key supersedes), so an open gap and its final
extent, or a ``GapClosed`` and the piece left at the same start, become one row. A
``GapClosed`` with nothing left at its start marks the row ``filled_at`` (event time of
the reading that filled it); the gap stays visible as history, with ``open = false``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import orjson
from cassandra.cluster import Session

from smart_meter.reading import Reading
from smart_meter.storage.binding import unset_if_none
from smart_meter.storage.schema import event_bucket
from streaming_app.processed import ProcessedBatch
from streaming_app.rules.engine import Status
from streaming_app.rules.events import Event, Gap, GapClosed, LateEvent, VoltageEvent, event_record
from streaming_app.sinks.cassandra_rows import (
    DAY_MS,
    Write,
    day_of,
    month_of,
    prepare,
)
from streaming_app.sinks.event_keys import AlertFields, alert_fields, is_routed_late, latest_by_key

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

ReadingsByKey = Mapping[tuple[str, int], Reading]


def rejected_readings(batch: ProcessedBatch) -> dict[tuple[str, int], Reading]:
    """Rejected readings by (meter, event time): the payload kept with a late event."""
    return {
        (checked.reading.meter_id, checked.verdict.ts_ms): checked.reading
        for checked in batch.readings
        if checked.verdict.status is Status.REJECTED
    }


class EventsWriter:
    """Builds the event rows of a batch."""

    def __init__(self, session: Session) -> None:
        self._alert = prepare(session, "alerts_by_day", ALERT_COLUMNS)
        self._gap = prepare(session, "gaps_by_meter", GAP_COLUMNS)
        self._gap_closed = prepare(session, "gaps_by_meter", GAP_CLOSED_COLUMNS)
        self._voltage = prepare(session, "voltage_events_by_meter", VOLTAGE_COLUMNS)
        self._late = prepare(session, "late_events_by_day", LATE_COLUMNS)

    def writes(self, batch: ProcessedBatch) -> list[Write]:
        """The rows of the batch's events, the superseded ones left out."""
        events = latest_by_key(batch.events)
        rejected = rejected_readings(batch) if any(map(is_routed_late, events)) else {}
        return [write for event in events for write in self._event_writes(event, rejected)]

    def _event_writes(self, event: Event, rejected: ReadingsByKey) -> Iterator[Write]:
        if isinstance(event, Gap):
            yield self._gap_write(event)
        elif isinstance(event, GapClosed):
            yield self._gap_closed_write(event)
        elif isinstance(event, LateEvent) and is_routed_late(event):
            yield self._late_write(event, rejected.get((event.meter_id, event.ts_ms)))
        elif isinstance(event, VoltageEvent):
            yield self._voltage_write(event)
        fields = alert_fields(event)
        if fields is not None:
            yield self._alert_write(event, fields)

    def _gap_write(self, gap: Gap) -> Write:
        values = (
            gap.meter_id, month_of(gap.start_ms), gap.start_ms, gap.end_ms,
            gap.missing_intervals, gap.open, gap.detected_by, None,
        )  # fmt: skip
        return Write(self._gap, values, ("g", gap.meter_id, month_of(gap.start_ms)))

    def _gap_closed_write(self, closed: GapClosed) -> Write:
        values = (
            closed.meter_id, month_of(closed.start_ms), closed.start_ms, closed.end_ms,
            closed.missing_intervals, False, closed.filled_at_ms,
        )  # fmt: skip
        return Write(self._gap_closed, values, ("g", closed.meter_id, month_of(closed.start_ms)))

    def _voltage_write(self, episode: VoltageEvent) -> Write:
        month = month_of(episode.start_ms)
        values = (
            episode.meter_id, month, episode.start_ms, episode.end_ms, episode.min_v,
            episode.max_v, episode.direction, episode.duration, episode.readings, episode.ongoing,
        )  # fmt: skip
        return Write(self._voltage, values, ("v", episode.meter_id, month))

    def _late_write(self, late: LateEvent, reading: Reading | None) -> Write:
        day_index, bucket = late.ts_ms // DAY_MS, event_bucket(late.meter_id)
        payload = None if reading is None else reading.model_dump_json(exclude_none=True)
        values = (
            day_of(late.ts_ms), bucket, late.ts_ms, late.meter_id, late.watermark_ms,
            late.lateness.value, late.behind_ms, unset_if_none(payload),
        )  # fmt: skip
        return Write(self._late, values, ("l", day_index, bucket))

    def _alert_write(self, event: Event, fields: AlertFields) -> Write:
        day_index, bucket = fields.start_ms // DAY_MS, event_bucket(event.meter_id)
        detail = orjson.dumps(event_record(event)).decode()
        values = (
            day_of(fields.start_ms), bucket, fields.kind, fields.start_ms, event.meter_id,
            fields.end_ms, unset_if_none(fields.value), unset_if_none(fields.threshold),
            unset_if_none(fields.unit), detail,
        )  # fmt: skip
        return Write(self._alert, values, ("a", day_index, bucket))
