"""The JetStream streams: readings, dead letters, and the events the streaming app finds.

Each is created idempotently (created if missing, else updated to the configuration).
The side streams (dead letters, the findings audit trail) are bounded in age and bytes by
:class:`StreamLimits`, read from ``SMART_METER_STREAMS_*`` by every service that ensures
them, so that none of them sets the stream back to other limits; past a limit JetStream
drops the oldest messages.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smart_meter.subjects import (
    ALERTS_PREFIX,
    DEAD_LETTER_SUBJECT,
    FINDINGS_PREFIX,
    GAPS_SUBJECT,
    LATE_SUBJECT,
    PLATFORM_READINGS,
    ReadingsDestination,
)

DEAD_LETTER_STREAM = "DEADLETTER"
EVENTS_STREAM = "EVENTS"
PLATFORM_MAX_BYTES = 8 << 30
OTHER_MAX_BYTES = 1 << 30
FINDINGS_STREAM = "FINDINGS"
EVENT_SUBJECTS = (f"{ALERTS_PREFIX}.>", GAPS_SUBJECT, LATE_SUBJECT)
DAY_S = 86_400.0
GIB = 1 << 30


class StreamLimits(BaseSettings):
    """How much of the side streams JetStream keeps (the oldest messages go first).

    Environment: ``SMART_METER_STREAMS_DEAD_LETTER_MAX_AGE_S``,
    ``SMART_METER_STREAMS_DEAD_LETTER_MAX_BYTES``, ``SMART_METER_STREAMS_FINDINGS_MAX_AGE_S``,
    ``SMART_METER_STREAMS_FINDINGS_MAX_BYTES``. JetStream reserves ``max_bytes`` of its
    file store for each stream. ``SMART_METER_STREAMS_REPLICAS`` is how many servers of a
    NATS cluster keep a copy of every stream and key-value bucket (1 on a single server).
    """

    model_config = SettingsConfigDict(
        env_prefix="SMART_METER_STREAMS_", frozen=True, extra="ignore"
    )

    dead_letter_max_age_s: float = Field(
        default=14 * DAY_S, gt=0, description="dead letters kept this long (14 days)"
    )
    dead_letter_max_bytes: int = Field(
        default=GIB, gt=0, description="and at most this many bytes (1 GiB)"
    )
    findings_max_age_s: float = Field(
        default=2 * DAY_S, gt=0, description="the findings audit trail kept this long (2 days)"
    )
    findings_max_bytes: int = Field(
        default=GIB, gt=0, description="and at most this many bytes (1 GiB)"
    )
    replicas: int = Field(
        default=1, ge=1, le=5, description="copies of each stream and bucket in a NATS cluster"
    )


def readings_stream_config(
    duplicate_window_s: float = 120.0,
    max_bytes: int | None = None,
    destination: ReadingsDestination = PLATFORM_READINGS,
    replicas: int | None = None,
) -> StreamConfig:
    """Readings on ``meter.readings.*`` (or the destination's subjects); publishes
    deduplicated over ``duplicate_window_s``. JetStream reserves ``max_bytes`` on disk:
    8 GiB for the platform's stream, 1 GiB for another (a demo's, a test's). ``replicas``
    copies (default: ``SMART_METER_STREAMS_REPLICAS``)."""
    if max_bytes is None:
        max_bytes = PLATFORM_MAX_BYTES if destination == PLATFORM_READINGS else OTHER_MAX_BYTES
    return StreamConfig(
        name=destination.stream,
        subjects=[f"{destination.prefix}.*"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.NEW,
        max_bytes=max_bytes,
        duplicate_window=duplicate_window_s,
        num_replicas=StreamLimits().replicas if replicas is None else replicas,
    )


def dead_letter_stream_config(limits: StreamLimits | None = None) -> StreamConfig:
    """Rejected input on ``meter.deadletter``: original bytes, reason in the headers; kept
    within ``limits`` (default: from the environment)."""
    limits = StreamLimits() if limits is None else limits
    return StreamConfig(
        name=DEAD_LETTER_STREAM,
        subjects=[DEAD_LETTER_SUBJECT],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=limits.dead_letter_max_age_s,
        max_bytes=limits.dead_letter_max_bytes,
        num_replicas=limits.replicas,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream, or update it to ``config`` if it exists."""
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


async def ensure_readings_streams(
    js: JetStreamContext,
    duplicate_window_s: float = 120.0,
    destination: ReadingsDestination = PLATFORM_READINGS,
    limits: StreamLimits | None = None,
) -> None:
    """The readings stream and the dead-letter stream that keeps what was rejected."""
    await ensure_stream(js, readings_stream_config(duplicate_window_s, destination=destination))
    await ensure_stream(js, dead_letter_stream_config(limits))


def events_stream_config(
    duplicate_window_s: float = 600.0, max_age_s: float = 30 * 86_400.0
) -> StreamConfig:
    """Alerts, gaps and late events, kept ``max_age_s``; the streaming app publishes each
    with an id from its natural key, deduplicated over ``duplicate_window_s`` (long enough
    for a batch to be redelivered after a crash)."""
    return StreamConfig(
        name=EVENTS_STREAM,
        subjects=list(EVENT_SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age_s,
        duplicate_window=duplicate_window_s,
        num_replicas=StreamLimits().replicas,
    )


async def ensure_events_stream(
    js: JetStreamContext, duplicate_window_s: float = 600.0, limits: StreamLimits | None = None
) -> None:
    """The stream of the streaming app's events, and the dead-letter stream."""
    await ensure_stream(js, events_stream_config(duplicate_window_s))
    await ensure_stream(js, dead_letter_stream_config(limits))


def findings_stream_config(limits: StreamLimits | None = None) -> StreamConfig:
    """The audit trail: every finding of the streaming app, kept within ``limits``
    (default: from the environment)."""
    limits = StreamLimits() if limits is None else limits
    return StreamConfig(
        name=FINDINGS_STREAM,
        subjects=[f"{FINDINGS_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=limits.findings_max_age_s,
        max_bytes=limits.findings_max_bytes,
        duplicate_window=600.0,
        num_replicas=limits.replicas,
    )
