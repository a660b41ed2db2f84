"""Every row a batch writes to Cassandra, whichever client's sink writes it."""

from __future__ import annotations

from streaming_app.processed import ProcessedBatch
from streaming_app.sinks.cassandra_events import EVENT_INSERTS, event_writes
from streaming_app.sinks.cassandra_readings import BY_METER, BY_TRANSFORMER, reading_writes
from streaming_app.sinks.cassandra_rows import Insert, Write
from streaming_app.sinks.cassandra_totals import TOTALS, totals_writes

INSERTS: tuple[Insert, ...] = tuple(
    dict.fromkeys((BY_METER, BY_TRANSFORMER, *EVENT_INSERTS, TOTALS))
)
"""Every INSERT a sink may need: each client prepares them once."""


def batch_writes(batch: ProcessedBatch) -> list[Write]:
    """The batch's stored readings (both tables), its events, and its running totals."""
    return reading_writes(batch) + event_writes(batch) + totals_writes(batch)
