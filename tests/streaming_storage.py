"""Readings stored the way the streaming app stores them: validated a fetch at a time by
the app's batch builder, each batch written by the app's Cassandra sink (rows, events,
running totals; over the client the app's settings choose), without NATS in between."""

from __future__ import annotations

from collections.abc import Sequence

from smart_meter.codec import encode_batch
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.batching import BatchBuilder, Incoming
from streaming_app.runtime.wiring import open_cassandra_sink
from streaming_app.settings import load_settings
from streaming_app.validation import ValidationSettings, prod_settings

PER_MESSAGE, PER_BATCH = 5, 16


async def batches(
    readings: Sequence[Reading],
    validation: ValidationSettings | None = None,
    per_message: int = PER_MESSAGE,
    per_batch: int = PER_BATCH,
) -> list[ProcessedBatch]:
    """Messages of ``per_message`` readings, validated ``per_batch`` messages at a time, as
    a worker does it."""
    builder = BatchBuilder(0, 1, (validation or prod_settings()).validator())
    chunks = [readings[i : i + per_message] for i in range(0, len(readings), per_message)]
    messages = [Incoming(encode_batch(chunk), "p.0", seq) for seq, chunk in enumerate(chunks, 1)]
    built = []
    for start in range(0, len(messages), per_batch):
        built.append(await builder.build(messages[start : start + per_batch], 0))
        builder.committed(built[-1])
    return [b.batch for b in built]


async def store_as_the_app_does(
    connections: ConnectionSettings,
    readings: Sequence[Reading],
    validation: ValidationSettings | None = None,
) -> list[ProcessedBatch]:
    """Validate and write every batch; the batches, for what the rules found."""
    written = await batches(readings, validation)
    sink = await open_cassandra_sink(load_settings().cassandra_client, connections)
    try:
        for batch in written:
            await sink.write(batch)
    finally:
        await sink.close()
    return written
