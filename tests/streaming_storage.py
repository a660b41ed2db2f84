"""Readings stored the way the streaming app stores them: validated a fetch at a time by
the app's batch builder, each batch written by the app's Cassandra sink (rows, events,
running totals), without NATS in between."""

from __future__ import annotations

from collections.abc import Sequence

from smart_meter.codec import encode_batch
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.batching import BatchBuilder, Incoming
from streaming_app.sinks.cassandra_sink import CassandraSink
from streaming_app.validation import ValidationSettings, prod_settings

PER_MESSAGE, PER_BATCH = 5, 16


async def batches(
    readings: Sequence[Reading], validation: ValidationSettings | None = None
) -> list[ProcessedBatch]:
    """Messages of a few readings, validated a fetch at a time, as a worker does it."""
    builder = BatchBuilder(0, 1, (validation or prod_settings()).validator())
    chunks = [readings[i : i + PER_MESSAGE] for i in range(0, len(readings), PER_MESSAGE)]
    messages = [Incoming(encode_batch(chunk), "p.0", seq) for seq, chunk in enumerate(chunks, 1)]
    built = []
    for start in range(0, len(messages), PER_BATCH):
        built.append(await builder.build(messages[start : start + PER_BATCH], 0))
        builder.committed(built[-1])
    return [b.batch for b in built]


async def store_as_the_app_does(
    connections: ConnectionSettings,
    readings: Sequence[Reading],
    validation: ValidationSettings | None = None,
) -> list[ProcessedBatch]:
    """Validate and write every batch; the batches, for what the rules found."""
    written = await batches(readings, validation)
    sink = await CassandraSink.open(connections)
    try:
        for batch in written:
            await sink.write(batch)
    finally:
        await sink.close()
    return written
