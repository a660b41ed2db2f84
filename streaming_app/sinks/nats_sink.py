"""The NATS sink: events and dead letters on JetStream subjects, each stored once.

- events on the subject their catalogue route gives (:mod:`streaming_app.catalogue`:
  alerts on ``meter.alerts.<kind>``, gaps and ``GapClosed`` on ``meter.gaps``, TOO_LATE and FUTURE
  readings on ``meter.late`` with the reading), as JSON (:func:`event_record`), in the
  ``EVENTS`` stream. Within a batch, only the last event of each natural key is sent,
  so one key's events are never reordered by concurrent publishes.
- dead letters on ``meter.deadletter``: the original bytes, with the headers
  ``Smart-Meter-Reason``, ``Smart-Meter-Field``, ``Smart-Meter-Error-Kind`` (a
  :class:`~smart_meter.codec.ReadingErrorKind`), ``Smart-Meter-Subject`` and
  ``Smart-Meter-Stream-Seq``, in the ``DEADLETTER`` stream (bounded in age and bytes:
  :class:`~smart_meter.streams.StreamLimits`).
- with ``findings`` on (off by default: one message per flagged reading), the audit
  trail: every event of the batch, in order, on ``meter.findings.<EventType>`` in the
  ``FINDINGS`` stream, including what is only a flag on the reading (LATE, identical
  duplicates, off-grid readings), bounded like the dead letters. The demo scores it
  against the injector's ground truth.

Every message carries a ``Nats-Msg-Id``: for an event, its natural key and a digest of
its content (a final gap after an open one, same key, is a new message); for a dead
letter, the source subject, stream sequence and batch index. A batch written twice within
the stream's duplicate window is stored once. Connection loss, timeouts and a JetStream
without responders raise :class:`TransientSinkError`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import nats
import orjson
from nats.aio.client import Client as NatsClient
from nats.errors import (
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    NoRespondersError,
    NoServersError,
    OutboundBufferLimitError,
    StaleConnectionError,
    UnexpectedEOF,
)
from nats.js.errors import NoStreamResponseError, ServerError, ServiceUnavailableError

from smart_meter.credentials import Credentials
from smart_meter.reading import Reading
from smart_meter.settings import nats_connect_options, nats_servers
from smart_meter.streams import (
    DEAD_LETTER_STREAM,
    EVENTS_STREAM,
    FINDINGS_STREAM,
    StreamLimits,
    ensure_events_stream,
    ensure_stream,
    findings_stream_config,
)
from smart_meter.subjects import DEAD_LETTER_KIND_HEADER, DEAD_LETTER_SUBJECT, finding_subject
from streaming_app.catalogue import latest_by_key, natural_key, route_of
from streaming_app.processed import DeadLetter, ProcessedBatch
from streaming_app.rules.events import Event, event_record
from streaming_app.sinks.base import TransientSinkError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,  # nats.errors.TimeoutError too
    NoRespondersError,
    NoServersError,
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    OutboundBufferLimitError,
    StaleConnectionError,
    UnexpectedEOF,
    NoStreamResponseError,
    ServiceUnavailableError,
    ServerError,
    OSError,
)
MAX_HEADER_CHARS = 512
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish on a stream."""

    subject: str
    payload: bytes
    headers: dict[str, str]
    stream: str


def event_message(event: Event, subject: str, reading: Reading | None) -> Outgoing:
    """The event as JSON, with the reading it keeps (a late event's), if any."""
    record: dict[str, Any] = event_record(event)
    if reading is not None:
        record["reading"] = reading.model_dump(mode="json", exclude_none=True)
    payload = orjson.dumps(record)
    family, meter_id, kind, when_ms = natural_key(event)
    digest = hashlib.blake2b(payload, digest_size=8).hexdigest()
    headers = {
        "Nats-Msg-Id": f"{family}:{meter_id}:{kind}:{when_ms}:{digest}",
        "Smart-Meter-Meter": meter_id,
        "Smart-Meter-Event": str(record["type"]),
    }
    return Outgoing(subject, payload, headers, EVENTS_STREAM)


def header_value(text: str) -> str:
    """A header value on one line, of bounded length."""
    return " ".join(text.split())[:MAX_HEADER_CHARS]


def dead_letter_message(letter: DeadLetter, scope: str = "") -> Outgoing:
    """The original bytes, why they were refused, and a redelivery-proof id (unique within
    ``scope``: one incarnation of the readings stream, whose sequences restart at 1)."""
    seq = letter.stream_seq
    origin = str(seq) if seq is not None else hashlib.blake2b(letter.data).hexdigest()[:32]
    index = "-" if letter.index is None else str(letter.index)
    headers = {
        "Nats-Msg-Id": f"dl:{scope}:{letter.subject}:{origin}:{index}",
        "Smart-Meter-Reason": header_value(letter.reason),
        "Smart-Meter-Field": header_value(letter.field),
        DEAD_LETTER_KIND_HEADER: letter.kind.value,
        "Smart-Meter-Subject": letter.subject,
    }
    if seq is not None:
        headers["Smart-Meter-Stream-Seq"] = str(seq)
    return Outgoing(DEAD_LETTER_SUBJECT, letter.data, headers, DEAD_LETTER_STREAM)


def finding_messages(events: Iterable[Event], scope: str = "") -> Iterator[Outgoing]:
    """The audit trail of a batch: every event, in order. Equal events of one batch (a
    reading redelivered twice) are told apart by their rank, so each is kept once; the
    ids are unique within ``scope`` (one incarnation of the readings stream)."""
    seen: Counter[str] = Counter()
    for event in events:
        name = type(event).__name__
        payload = orjson.dumps(event_record(event))
        digest = hashlib.blake2b(payload, digest_size=8).hexdigest()
        _, meter_id, _, when_ms = natural_key(event)
        key = f"finding:{scope}:{name}:{meter_id}:{when_ms}:{digest}"
        seen[key] += 1
        headers = {"Nats-Msg-Id": f"{key}:{seen[key]}", "Smart-Meter-Meter": meter_id}
        yield Outgoing(finding_subject(name), payload, headers, FINDINGS_STREAM)


def batch_messages(
    batch: ProcessedBatch, *, scope: str = "", findings: bool = False
) -> Iterator[Outgoing]:
    """Every message a batch publishes: its events, its dead letters, and (``findings``)
    its audit trail; ``scope`` makes the ids of the last two unique per stream incarnation."""
    routes = [(event, route_of(event)) for event in latest_by_key(batch.events)]
    routed = [
        (event, route, subject) for event, route in routes if (subject := route.subject_of(event))
    ]
    keeping = any(route.keeps_reading for _, route, _ in routed)
    rejected = batch.rejected_by_key() if keeping else {}
    for event, route, subject in routed:
        yield event_message(event, subject, route.reading_of(event, rejected))
    for letter in batch.dead_letters:
        yield dead_letter_message(letter, scope)
    if findings:
        yield from finding_messages(batch.events, scope)


class NatsSink:
    """Publishes a batch's events and dead letters to JetStream."""

    name = "nats"

    def __init__(
        self,
        nc: NatsClient,
        *,
        timeout_s: float = 5.0,
        max_in_flight: int = 256,
        owns: bool = False,
        readings_stream: str | None = None,
        findings: bool = False,
        limits: StreamLimits | None = None,
    ) -> None:
        self.nc = nc
        self.limits = StreamLimits() if limits is None else limits  # of the side streams
        self.readings_stream = readings_stream  # the input: scopes dead-letter/finding ids
        self.findings = findings
        self._scope = ""
        self.js = nc.jetstream(timeout=timeout_s)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._owns = owns

    @classmethod
    async def connect(
        cls,
        url: str | list[str],
        *,
        connect_timeout_s: float = 2.0,
        credentials: Credentials | None = None,
        **options: Any,
    ) -> NatsSink:
        """Connect (reconnecting forever once connected) and ensure the streams; ``url`` is
        one server or a cluster's list."""
        servers = url if isinstance(url, list) else nats_servers(url)
        try:
            nc = await nats.connect(
                **nats_connect_options(",".join(servers), credentials),
                connect_timeout=connect_timeout_s,
                max_reconnect_attempts=1,  # a second try, then the first connect fails
                error_cb=_log_error,
            )
        except TRANSIENT_ERRORS as error:
            raise TransientSinkError(cls.name, f"{type(error).__name__}: {error}") from error
        nc.options["max_reconnect_attempts"] = -1  # once connected, reconnect forever
        sink = cls(nc, owns=True, **options)
        await sink.ensure_streams()
        return sink

    async def ensure_streams(self) -> None:
        """Create or update the EVENTS and DEADLETTER streams (and FINDINGS, if on)."""
        await self._guarded(ensure_events_stream(self.js, limits=self.limits))
        if self.findings:
            await self._guarded(ensure_stream(self.js, findings_stream_config(self.limits)))
        if self.readings_stream is not None:
            await self._guarded(self._scope_ids(self.readings_stream))

    async def _scope_ids(self, stream: str) -> None:
        """Scope dead-letter and finding ids to this incarnation of the readings stream:
        a stream deleted and made again restarts its sequences at 1, and its messages must
        not be taken for redeliveries of the old one's."""
        info = await self.js.stream_info(stream)
        created = info.created.isoformat() if info.created else "unknown"
        self._scope = f"{stream}@{created}"

    async def write(self, batch: ProcessedBatch) -> None:
        """Publish and wait for every ack; the first failure is raised after all settle."""
        messages = batch_messages(batch, scope=self._scope, findings=self.findings)
        publishes = [self._publish(message) for message in messages]
        results = await asyncio.gather(*publishes, return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            self._raise(errors[0])

    async def _publish(self, message: Outgoing) -> None:
        async with self._slots:
            await self.js.publish(
                message.subject, message.payload, stream=message.stream, headers=message.headers
            )

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except TRANSIENT_ERRORS as error:
            self._raise(error)

    def _raise(self, error: BaseException) -> NoReturn:
        """``error`` as a :class:`TransientSinkError` if it is one of "not now", else as is."""
        if isinstance(error, TRANSIENT_ERRORS):
            raise TransientSinkError(self.name, f"{type(error).__name__}: {error}") from error
        raise error

    async def close(self) -> None:
        """Flush and close the connection if this sink opened it."""
        if self._owns and not self.nc.is_closed:
            await self.nc.drain()


async def _log_error(error: Exception) -> None:
    """One line per connection error (the client's default logs a traceback per retry)."""
    logger.warning("nats sink: %s: %s", type(error).__name__, error)
