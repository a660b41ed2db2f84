"""Events to their tables, as the catalogue routes them: gaps, voltage episodes, alerts,
readings too late to process.

Within a batch only the last event of each natural key is written (the engine's
contract: a later event with the same key supersedes), so an open gap and its final
extent, or a ``GapClosed`` and the piece left at the same start, become one row. A
``GapClosed`` with nothing left at its start marks the row ``filled_at`` (event time of
the reading that filled it); the gap stays visible as history, with ``open = false``.
"""

from __future__ import annotations

from streaming_app.catalogue import CATALOGUE, latest_by_key, route_of
from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.cassandra_rows import Insert, Write

EVENT_INSERTS = tuple(Insert(table, columns) for table, columns in CATALOGUE.table_layouts())


def event_writes(batch: ProcessedBatch) -> list[Write]:
    """The rows of the batch's events, the superseded ones left out."""
    routed = [(event, route_of(event)) for event in latest_by_key(batch.events)]
    keeping = any(route.keeps_reading and route.routed(event) for event, route in routed)
    rejected = batch.rejected_by_key() if keeping else {}
    return [
        Write(Insert(row.table, row.columns), row.values, row.partition)
        for event, route in routed
        for row in route.rows(event, route.reading_of(event, rejected))
    ]
