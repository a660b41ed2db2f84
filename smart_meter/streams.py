"""The JetStream stream that holds every reading, created idempotently."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from smart_meter.subjects import DEAD_LETTER_SUBJECT, READINGS_PREFIX, READINGS_STREAM

DEAD_LETTER_STREAM = "DEADLETTER"


def readings_stream_config(
    duplicate_window_s: float = 120.0, max_bytes: int = 8 << 30
) -> StreamConfig:
    """Readings on ``meter.readings.*``; publishes deduplicated over ``duplicate_window_s``."""
    return StreamConfig(
        name=READINGS_STREAM,
        subjects=[f"{READINGS_PREFIX}.*"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_bytes=max_bytes,
        duplicate_window=duplicate_window_s,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it to ``config`` if it exists."""
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


async def ensure_readings_streams(js: JetStreamContext, duplicate_window_s: float = 120.0) -> None:
    """The readings stream and the dead-letter stream that keeps what was rejected."""
    await ensure_stream(js, readings_stream_config(duplicate_window_s))
    await ensure_stream(
        js,
        StreamConfig(
            name=DEAD_LETTER_STREAM, subjects=[DEAD_LETTER_SUBJECT], storage=StorageType.FILE
        ),
    )
