"""Read back what one run of the pipeline produced.

- the audit trail of findings (``FINDINGS`` stream) and the dead letters of the run's
  subjects (``DEADLETTER`` stream), from the sequences the streams had before the run;
- the stored readings by status, and the gaps, alerts, late events and voltage episodes,
  from the run's Cassandra keyspace;
- the per-status and per-rule counts the app wrote to its InfluxDB database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from smart_meter.codec import ReadingErrorKind
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from smart_meter.streams import DEAD_LETTER_STREAM, FINDINGS_STREAM
from smart_meter.subjects import DEAD_LETTER_KIND_HEADER
from streaming_app.rules.events import Event, event_from_record
from streaming_app.sinks.metrics_sink import MetricsSink

FETCH_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class ReadDeadLetter:
    """A dead letter as read back: the bytes, and the reason and kind the app gave."""

    data: bytes
    field: str
    reason: str
    subject: str
    kind: ReadingErrorKind


def error_kind(headers: Mapping[str, str]) -> ReadingErrorKind:
    """The ``Smart-Meter-Error-Kind`` of a dead letter (``invalid_value`` if it has none
    this build knows: a dead letter of an older or newer app)."""
    try:
        return ReadingErrorKind(headers.get(DEAD_LETTER_KIND_HEADER, ""))
    except ValueError:
        return ReadingErrorKind.INVALID_VALUE


async def next_seq(js: JetStreamContext, stream: str) -> int:
    """The sequence the stream's next message will get (1 for a missing stream)."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return 1
    return int(info.state.last_seq) + 1


async def _messages(js: JetStreamContext, stream: str, subject: str, start_seq: int) -> list[Any]:
    """Every message of ``stream`` on ``subject`` from ``start_seq`` to the stream's end."""
    end_seq = await next_seq(js, stream) - 1
    if end_seq < start_seq:
        return []
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start_seq,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
    )
    subscription = await js.pull_subscribe(subject, stream=stream, config=config)
    found: list[Any] = []
    try:
        while True:
            try:
                batch = await subscription.fetch(FETCH_BATCH, timeout=2.0)
            except NatsTimeoutError:
                return found  # nothing more on this subject up to the end
            found.extend(batch)
            if batch[-1].metadata.sequence.stream >= end_seq:
                return found
    finally:
        await subscription.unsubscribe()


async def read_findings(js: JetStreamContext, start_seq: int, readings_stream: str) -> list[Event]:
    """The audit trail from ``start_seq`` of the apps reading ``readings_stream``, as
    events, in stream order. The stream of findings is shared by every deployment on the
    server: another deployment's app running meanwhile (a second demo, its history, a
    test) publishes there too, often about meters of the same names; its findings are
    told apart by their message id, which starts with ``finding:<readings stream>@``."""
    messages = await _messages(js, FINDINGS_STREAM, "meter.findings.>", start_seq)
    ours = f"finding:{readings_stream}@"
    return [
        event_from_record(orjson.loads(message.data))
        for message in messages
        if (message.headers or {}).get("Nats-Msg-Id", "").startswith(ours)
    ]


async def read_dead_letters(
    js: JetStreamContext, start_seq: int, subject_prefix: str
) -> list[ReadDeadLetter]:
    """Dead letters from ``start_seq`` of messages that came on ``<subject_prefix>.*``."""
    letters = []
    for message in await _messages(js, DEAD_LETTER_STREAM, ">", start_seq):
        headers = message.headers or {}
        subject = headers.get("Smart-Meter-Subject", "")
        if subject.startswith(f"{subject_prefix}."):
            field, reason = (
                headers.get("Smart-Meter-Field", ""),
                headers.get("Smart-Meter-Reason", ""),
            )
            kind = error_kind(headers)
            letters.append(ReadDeadLetter(message.data, field, reason, subject, kind))
    return letters


@dataclass(frozen=True)
class StoredCounts:
    """What the run's Cassandra keyspace holds."""

    readings_by_status: Counter[str]
    gaps: int
    missing_intervals: int
    open_gaps: int
    alerts_by_kind: Counter[str]
    late_events: int
    voltage_episodes: int

    @property
    def readings(self) -> int:
        return sum(self.readings_by_status.values())


def stored_counts(connections: ConnectionSettings) -> StoredCounts:
    """Count the run's tables (a demo keyspace: small enough to scan)."""
    session = open_session(connections, create_schema=False)
    try:

        def column(statement: str) -> list[Any]:
            return list(session.execute(statement, timeout=120))

        statuses = Counter(row.status for row in column("SELECT status FROM readings_by_meter_day"))
        gaps = column("SELECT missing_intervals, open FROM gaps_by_meter")
        alerts = Counter(row.kind for row in column("SELECT kind FROM alerts_by_day"))
        late = len(column("SELECT meter_id FROM late_events_by_day"))
        voltage = len(column("SELECT meter_id FROM voltage_events_by_meter"))
    finally:
        session.cluster.shutdown()
    return StoredCounts(
        readings_by_status=statuses,
        gaps=len(gaps),
        missing_intervals=sum(row.missing_intervals for row in gaps),
        open_gaps=sum(1 for row in gaps if row.open),
        alerts_by_kind=alerts,
        late_events=late,
        voltage_episodes=voltage,
    )


def _series_sums(reply: bytes, tag: str) -> Counter[str]:
    """``{tag value: sum}`` from an InfluxQL reply grouped by ``tag``."""
    sums: Counter[str] = Counter()
    for result in orjson.loads(reply).get("results", []):
        for series in result.get("series", []):
            value = series["values"][0][1]
            sums[series["tags"][tag]] += int(value or 0)
    return sums


@dataclass(frozen=True)
class MetricCounts:
    """The app's own counts, from InfluxDB: readings by verdict, failures by rule."""

    by_status: Counter[str]
    failures_by_rule: Counter[str]


def metric_counts(connections: ConnectionSettings) -> MetricCounts:
    metrics = MetricsSink(connections.influxdb_url, connections.influxdb_database)
    statuses = metrics.query('SELECT sum("count") FROM "pipeline" GROUP BY "status"')
    rules = metrics.query('SELECT sum("failures") FROM "rules" GROUP BY "rule"')
    return MetricCounts(_series_sums(statuses, "status"), _series_sums(rules, "rule"))
