"""The asyncio side of the Locust injector: plan messages, publish them, time each ack.

This runs on the loop thread of :class:`~inject.loadtest.bridge.AsyncioThread`. Messages
are cut exactly as :class:`~smart_meter.publisher.ReadingPublisher` cuts them (readings
grouped by partition subject, at most ``batch_size`` per message, ``Nats-Msg-Id``
from the natural keys), but each publish is timed on its own, because Locust reports
one latency per request.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import ConnectionReconnectingError, OutboundBufferLimitError
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError

from smart_meter.codec import encode_batch, encode_reading
from smart_meter.reading import Reading
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_STREAM, dedup_id, subject_for_meter

# Worth another attempt with the same Nats-Msg-Id: JetStream stores the message once.
_TRANSIENT = (
    TimeoutError,
    NatsTimeoutError,
    NoStreamResponseError,
    ConnectionReconnectingError,
    OutboundBufferLimitError,
)


@dataclass(frozen=True)
class OutgoingMessage:
    """One JetStream message: where it goes, its bytes, its dedup id, its reading count."""

    subject: str
    payload: bytes
    msg_id: str
    readings: int


def plan_messages(
    readings: Sequence[Reading],
    partitions: int,
    batch_size: int,
    concentrator_id: str | None = None,
) -> list[OutgoingMessage]:
    """Group by partition subject (per-meter order kept), cut batches, encode each one."""
    by_subject: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_subject[subject_for_meter(reading.meter_id, partitions)].append(reading)
    messages: list[OutgoingMessage] = []
    for subject, group in by_subject.items():
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            if len(chunk) == 1:
                payload = encode_reading(chunk[0])
            else:
                payload = encode_batch(chunk, concentrator_id)
            msg_id = dedup_id(reading.key for reading in chunk)
            messages.append(OutgoingMessage(subject, payload, msg_id, len(chunk)))
    return messages


@dataclass(frozen=True)
class PublishOutcome:
    """What became of one message: ack latency (first send to ack), attempts, error."""

    readings: int
    payload_bytes: int
    latency_ms: float
    attempts: int
    duplicate: bool = False
    error: NatsError | TimeoutError | None = None

    @property
    def stored_by_us(self) -> bool:
        """Acked, and stored by this publish (a duplicate ack after our own retry counts)."""
        return self.error is None and (not self.duplicate or self.attempts > 1)


class JetStreamSender:
    """One NATS connection per Locust process; bounded in-flight publishes, timed acks."""

    def __init__(
        self, nc: NatsClient, max_in_flight: int, ack_timeout_s: float, max_attempts: int
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream(timeout=ack_timeout_s)
        self.max_attempts = max_attempts
        self._slots = asyncio.Semaphore(max_in_flight)

    @classmethod
    async def connect(
        cls,
        url: str,
        max_in_flight: int = 256,
        ack_timeout_s: float = 5.0,
        max_attempts: int = 5,
        name: str = "inject-locust",
    ) -> JetStreamSender:
        """Connect (reconnecting for ever after a server restart), ensure the streams."""
        nc = await nats.connect(url, name=name, max_reconnect_attempts=-1)
        sender = cls(nc, max_in_flight, ack_timeout_s, max_attempts)
        await ensure_readings_streams(sender.js)
        return sender

    async def send(self, messages: Sequence[OutgoingMessage]) -> list[PublishOutcome]:
        """Publish every message concurrently; one outcome each, in the same order."""
        return list(await asyncio.gather(*(self._send_one(message) for message in messages)))

    async def _send_one(self, message: OutgoingMessage) -> PublishOutcome:
        async with self._slots:
            began = time.perf_counter()
            attempts, duplicate, error = await self._publish_with_retry(message)
            latency_ms = (time.perf_counter() - began) * 1000
        return PublishOutcome(
            message.readings, len(message.payload), latency_ms, attempts, duplicate, error
        )

    async def _publish_with_retry(
        self, message: OutgoingMessage
    ) -> tuple[int, bool, NatsError | TimeoutError | None]:
        headers = {"Nats-Msg-Id": message.msg_id}
        attempt = 0
        while True:
            attempt += 1
            try:
                ack = await self.js.publish(
                    message.subject, message.payload, stream=READINGS_STREAM, headers=headers
                )
            except _TRANSIENT as error:
                if attempt >= self.max_attempts:
                    return attempt, False, error
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))  # back off, same msg id
            except NatsError as error:
                return attempt, False, error
            else:
                return attempt, bool(ack.duplicate), None

    async def close(self) -> None:
        """Flush what is buffered and close the connection."""
        await self.nc.drain()
