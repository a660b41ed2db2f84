"""A partition's durable pull consumer, (re)created to resume from the committed position.

One durable per partition (``<durable_prefix>-p<partition>``) with explicit acks and
``max_ack_pending`` equal to the largest fetch (``fetch_batch``): the owner fetches,
commits and acks one batch at a time, so at most one batch is ever outstanding and a
redelivery cannot overtake newer messages of the same meter.

When a partition is claimed, messages the previous owner left un-acked would only
come back after ``ack_wait``; instead the consumer is recreated to start right after
its ack floor (or the state store's checkpoint, if that is further), so the new owner
resumes at once and in stream order.
"""

from __future__ import annotations

import logging
import math

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import NotFoundError

from streaming_app.settings import AppSettings

log = logging.getLogger(__name__)


def consumer_config(settings: AppSettings, partition: int) -> ConsumerConfig:
    """The durable's configuration, starting where a new durable starts."""
    return ConsumerConfig(
        durable_name=settings.durable(partition),
        filter_subject=settings.subject(partition),
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait_s,
        max_ack_pending=settings.fetch_batch,
        max_deliver=-1,
        deliver_policy=DeliverPolicy.ALL if settings.deliver_all else DeliverPolicy.NEW,
    )


def reusable(info: ConsumerInfo, wanted: ConsumerConfig) -> bool:
    """An existing durable that can be bound as it is: nothing pending, same settings."""
    have = info.config
    return (
        not info.num_ack_pending
        and have.filter_subject == wanted.filter_subject
        and have.max_ack_pending == wanted.max_ack_pending
        and math.isclose(have.ack_wait or 0.0, wanted.ack_wait or 0.0)
    )


def resume_from(info: ConsumerInfo | None, committed_seq: int) -> int | None:
    """First stream sequence not yet committed, or ``None`` for a brand-new partition."""
    floor = info.ack_floor.stream_seq if info and info.ack_floor else 0
    if info is None and committed_seq == 0:
        return None
    return max(floor, committed_seq) + 1


async def _info(js: JetStreamContext, stream: str, durable: str) -> ConsumerInfo | None:
    try:
        info: ConsumerInfo = await js.consumer_info(stream, durable)
    except NotFoundError:
        return None
    return info


async def open_consumer(
    js: JetStreamContext, settings: AppSettings, partition: int, committed_seq: int
) -> JetStreamContext.PullSubscription:
    """Bind the partition's durable, recreating it at the committed position if needed."""
    durable, stream = settings.durable(partition), settings.stream
    wanted = consumer_config(settings, partition)
    info = await _info(js, stream, durable)
    if info is None or not reusable(info, wanted):
        start_seq = resume_from(info, committed_seq)
        if info is not None:
            await js.delete_consumer(stream, durable)
        if start_seq is not None:
            wanted.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            wanted.opt_start_seq = start_seq
        await js.add_consumer(stream, wanted)
        log.info("partition %d: consumer %s starts at %s", partition, durable, start_seq)
    return await js.pull_subscribe_bind(durable=durable, stream=stream)
