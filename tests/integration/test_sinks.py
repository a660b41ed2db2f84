"""The sinks against the real Cassandra, InfluxDB and NATS of the local stack.

Batches are made by running the real validator over handmade readings. Every run uses
its own meter ids and a day of its own, so rows of earlier runs never interfere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import acsylla
import pytest
from cassandra.cluster import Session
from cassandra.policies import HostStateListener
from cassandra.util import SortedSet
from nats.js.errors import NotFoundError

from smart_meter.codec import ReadingErrorKind
from smart_meter.reading import GridPosition, Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.schema import event_bucket
from smart_meter.storage.session import open_session
from smart_meter.streams import (
    DEAD_LETTER_STREAM,
    EVENTS_STREAM,
    FINDINGS_STREAM,
    StreamLimits,
    dead_letter_stream_config,
    ensure_stream,
    findings_stream_config,
)
from stack.manager import LocalStack
from stack.settings import StackSettings
from streaming_app.processed import CheckedReading, DeadLetter, ProcessedBatch
from streaming_app.rules.engine import Validator
from streaming_app.rules.events import Event
from streaming_app.rules.lateness import LatenessRule
from streaming_app.runtime.wiring import open_cassandra_sink
from streaming_app.settings import CassandraClient
from streaming_app.sinks import metrics_sink
from streaming_app.sinks.acsylla_sink import AcsyllaSink
from streaming_app.sinks.base import Sink, TransientSinkError
from streaming_app.sinks.cassandra_sink import CassandraSink
from streaming_app.sinks.metrics_sink import MetricsSink
from streaming_app.sinks.nats_sink import NatsSink
from streaming_app.validation import demo_settings, prod_settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
DAY = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000))
MINUTE_MS = 60_000
NOT_JSON = ReadingErrorKind.NOT_JSON
PRESET = prod_settings(  # half-hourly meters; the parameters the expected rows rely on
    out_of_orderness_ms=60_000, lateness=LatenessRule(allowed_lateness_ms=3_600_000)
)


def at(clock: str) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes)


def ms(clock: str) -> int:
    return int(at(clock).timestamp() * 1000)


CLIENT_TAG = {"tag": ""}  # set per client by the cassandra_sink fixture: rows never meet


def meter(name: str) -> str:
    return f"T{RUN}{CLIENT_TAG['tag']}-{name}"


def read(
    name: str, clock: str, import_wh: float, voltage_v: float = 230.0, transformer: str = ""
) -> Reading:
    grid = GridPosition(transformer_id=meter(transformer), line_id="L1") if transformer else None
    return Reading(
        meter_id=meter(name), ts=at(clock), import_wh=import_wh, voltage_v=(voltage_v,), grid=grid
    )


@dataclass
class Scenario:
    """A validator fed batch by batch, as the worker feeds it."""

    validator: Validator = field(default_factory=PRESET.validator)
    partition: int = 0

    def batch(
        self,
        readings: Sequence[Reading],
        processed_ms: int,
        *,
        expire_to_ms: int | None = None,
        dead_letters: Sequence[DeadLetter] = (),
    ) -> ProcessedBatch:
        checked: list[CheckedReading] = []
        events: list[Event] = []
        for reading in readings:
            verdict = self.validator.process(reading)
            checked.append(CheckedReading(reading, verdict, processed_ms - 250, processed_ms - 400))
            events.extend(verdict.events)
        if expire_to_ms is not None:
            events.extend(self.validator.expire(expire_to_ms))
        return ProcessedBatch(
            self.partition, processed_ms, tuple(checked), tuple(events), tuple(dead_letters)
        )


def mixed_batch(processed_ms: int, tag: str = "") -> ProcessedBatch:
    """Meter A (transformer X): a voltage dip, a gap, a falling register. Meter B (no grid
    position): an identical and a conflicting duplicate, then a reading too late for B.
    ``tag`` names another set of meters (``A<tag>``, ``B<tag>``, ``X<tag>``)."""
    a, b, x = f"A{tag}", f"B{tag}", f"X{tag}"
    readings = [
        read(b, "10:00", 500.0),
        read(a, "10:00", 1000.0, transformer=x),
        read(b, "10:30", 600.0),
        read(b, "10:30", 600.0),
        read(b, "10:30", 650.0),
        read(a, "10:30", 1120.0, transformer=x),
        read(a, "11:00", 1250.0, voltage_v=190.0, transformer=x),
        read(a, "11:30", 1330.0, transformer=x),
        read(a, "13:00", 1700.0, transformer=x),
        read(a, "13:30", 1650.0, transformer=x),
        read(b, "09:00", 700.0),  # 89 min behind B's own newest reading: too late
    ]
    letter = DeadLetter(
        b"{not json", "invalid JSON:\nexpected value", "body", f"dl.{RUN}", 7, 2, kind=NOT_JSON
    )
    return Scenario().batch(readings, processed_ms, dead_letters=[letter])


A_READINGS = [
    ("10:00", 1000.0, "accepted", None),
    ("10:30", 1120.0, "accepted", None),
    ("11:00", 1250.0, "flagged", {"voltage"}),
    ("11:30", 1330.0, "accepted", None),
    ("13:00", 1700.0, "flagged", {"gap"}),
    ("13:30", 1650.0, "flagged", {"register"}),
]
B_READINGS = [("10:00", 500.0, "accepted", None), ("10:30", 600.0, "accepted", None)]


def to_ms(value: datetime) -> int:
    return int(value.replace(tzinfo=UTC).timestamp() * 1000)


def plain(value: Any) -> Any:
    """A driver value as plain Python: times as epoch ms, sets as sets, JSON text parsed."""
    if isinstance(value, datetime):
        return to_ms(value)
    if isinstance(value, SortedSet):
        return set(value)
    if isinstance(value, str) and value.startswith("{"):
        return json.loads(value)
    return value


def select(session: Session, table: str, columns: str, **key: Any) -> list[tuple[Any, ...]]:
    """Rows of one partition (``key``: its columns), plain."""
    where = " AND ".join(f"{column} = %s" for column in key)
    rows = session.execute(f"SELECT {columns} FROM {table} WHERE {where}", tuple(key.values()))
    return [tuple(plain(value) for value in row) for row in rows]


def reading_rows(session: Session, name: str) -> list[tuple[Any, ...]]:
    columns = "ts, import_wh, status, failed_rules, lateness, quality, transformer_id"
    return select(session, "readings_by_meter_day", columns, meter_id=meter(name), day=DAY.date())


def transformer_rows(session: Session, name: str) -> list[tuple[Any, ...]]:
    columns = "meter_id, ts, import_wh, status, line_id, ingested_at"
    table = "readings_by_transformer_day"
    return select(session, table, columns, transformer_id=meter(name), day=DAY.date())


def gap_rows(session: Session, name: str) -> list[tuple[Any, ...]]:
    columns = "start_ts, end_ts, missing_intervals, open, detected_by, filled_at"
    month = DAY.date().replace(day=1)
    return select(session, "gaps_by_meter", columns, meter_id=meter(name), month=month)


def voltage_rows(session: Session, name: str) -> list[tuple[Any, ...]]:
    columns = "start_ts, end_ts, min_v, max_v, direction, duration, readings, ongoing"
    month = DAY.date().replace(day=1)
    return select(session, "voltage_events_by_meter", columns, meter_id=meter(name), month=month)


def by_day_rows(session: Session, table: str, columns: str, name: str) -> list[tuple[Any, ...]]:
    """Rows of a meter in a day-keyed table (``meter_id`` first among ``columns``)."""
    rows = select(session, table, columns, day=DAY.date(), bucket=event_bucket(meter(name)))
    return [row[1:] for row in rows if row[0] == meter(name)]


def alert_rows(session: Session, names: Iterable[str]) -> list[tuple[Any, ...]]:
    columns = "meter_id, kind, start_ts, end_ts, value, threshold, unit, detail"
    found = [
        (name, *row[:-1], row[-1]["type"])
        for name in names
        for row in by_day_rows(session, "alerts_by_day", columns, name)
    ]
    return sorted(found)


def late_rows(session: Session, name: str) -> list[tuple[Any, ...]]:
    columns = "meter_id, ts, watermark, lateness, behind_ms, reading"
    return by_day_rows(session, "late_events_by_day", columns, name)


@pytest.fixture(scope="module")
def session(connections: ConnectionSettings) -> Iterator[Session]:
    cql = open_session(connections)
    yield cql
    cql.cluster.shutdown()


CLIENTS: tuple[CassandraClient, ...] = ("driver", "acsylla")


@pytest.fixture(params=CLIENTS)
async def cassandra_sink(
    request: pytest.FixtureRequest, connections: ConnectionSettings
) -> AsyncIterator[Sink]:
    """The app's Cassandra sink over each client: every Cassandra test runs with both, on
    meter ids of that client's own."""
    sink = await open_cassandra_sink(request.param, connections)
    CLIENT_TAG["tag"] = "" if request.param == "driver" else request.param
    yield sink
    CLIENT_TAG["tag"] = ""
    await sink.close()


# --- Cassandra ------------------------------------------------------------------------


async def test_a_batch_lands_in_every_table_exactly(cassandra_sink: Sink, session: Session) -> None:
    batch = mixed_batch(ms("14:00"))
    await cassandra_sink.write(batch)
    a_expected = [
        (ms(clock), wh, status, rules, "ON_TIME", "A", meter("X"))
        for clock, wh, status, rules in A_READINGS
    ]
    assert reading_rows(session, "A") == a_expected
    b_expected = [(ms(c), wh, s, rules, "ON_TIME", "A", None) for c, wh, s, rules in B_READINGS]
    assert reading_rows(session, "B") == b_expected
    assert transformer_rows(session, "X") == [
        (meter("A"), ms(clock), wh, status, "L1", ms("14:00"))
        for clock, wh, status, _ in A_READINGS
    ]
    assert gap_rows(session, "A") == [(ms("12:00"), ms("13:00"), 2, False, "reading", None)]
    assert voltage_rows(session, "A") == [
        (ms("11:00"), ms("11:00"), 190.0, 190.0, "under", "transient", 1, False)
    ]
    assert alert_rows(session, ["A", "B"]) == [
        ("A", "register_decrease", ms("13:30"), ms("13:30"), -50.0, None, "Wh", "RegisterEvent"),
        ("A", "voltage", ms("11:00"), ms("11:00"), 190.0, None, "V", "VoltageEvent"),
        ("B", "conflicting_duplicate", *[ms("10:30")] * 2, None, None, None, "DuplicateEvent"),
    ]
    watermark_ms = ms("10:30") - 60_000  # B's own: A's later readings do not make B late
    assert late_rows(session, "B") == [
        (
            ms("09:00"),
            watermark_ms,
            "TOO_LATE",
            watermark_ms - ms("09:00"),
            {
                "meter_id": meter("B"),
                "ts": at("09:00").isoformat().replace("+00:00", "Z"),
                "import_wh": 700.0,
                "voltage_v": [230.0],
            },
        )
    ]


async def test_writing_the_same_batch_twice_leaves_the_same_rows(
    cassandra_sink: Sink, session: Session
) -> None:
    batch = mixed_batch(ms("14:00"), tag="2")
    await cassandra_sink.write(batch)
    first = snapshot(session, tag="2")
    await cassandra_sink.write(batch)
    assert snapshot(session, tag="2") == first
    assert [len(rows) for rows in first] == [6, 2, 6, 1, 1, 3, 1]


def snapshot(session: Session, tag: str) -> list[list[tuple[Any, ...]]]:
    a, b = f"A{tag}", f"B{tag}"
    return [
        reading_rows(session, a),
        reading_rows(session, b),
        transformer_rows(session, f"X{tag}"),
        gap_rows(session, a),
        voltage_rows(session, a),
        alert_rows(session, [a, b]),
        late_rows(session, b),
    ]


async def test_a_late_reading_that_fills_the_first_slot_of_a_gap_marks_it_filled(
    cassandra_sink: Sink, session: Session
) -> None:
    scenario = Scenario()
    await cassandra_sink.write(
        scenario.batch([read("F1", "10:00", 100.0), read("F1", "11:30", 400.0)], ms("11:31"))
    )
    assert gap_rows(session, "F1") == [(ms("10:30"), ms("11:30"), 2, False, "reading", None)]
    late = scenario.batch([read("F1", "10:30", 200.0)], ms("11:32"))
    await cassandra_sink.write(late)
    assert gap_rows(session, "F1") == [
        (ms("10:30"), ms("11:30"), 2, False, "reading", ms("10:30")),
        (ms("11:00"), ms("11:30"), 1, False, "fill", None),
    ]
    assert [(row[0], row[4]) for row in reading_rows(session, "F1")] == [
        (ms("10:00"), "ON_TIME"),
        (ms("10:30"), "LATE"),
        (ms("11:30"), "ON_TIME"),
    ]


async def test_a_late_reading_that_shrinks_a_gap_from_its_end_rewrites_the_row(
    cassandra_sink: Sink, session: Session
) -> None:
    scenario = Scenario()
    await cassandra_sink.write(
        scenario.batch([read("F2", "10:00", 100.0), read("F2", "11:30", 400.0)], ms("11:31"))
    )
    late = scenario.batch([read("F2", "11:00", 300.0)], ms("11:32"))
    assert [type(event).__name__ for event in late.events] == ["LateEvent", "GapClosed", "Gap"]
    await cassandra_sink.write(late)
    assert gap_rows(session, "F2") == [(ms("10:30"), ms("11:00"), 1, False, "fill", None)]


async def test_a_silent_meter_gets_an_open_gap_that_its_return_closes(
    cassandra_sink: Sink, session: Session
) -> None:
    scenario = Scenario()
    silent = scenario.batch([read("S", "10:00", 100.0)], ms("11:16"), expire_to_ms=ms("11:15"))
    await cassandra_sink.write(silent)
    assert gap_rows(session, "S") == [(ms("10:30"), ms("11:30"), 2, True, "timer", None)]
    await cassandra_sink.write(scenario.batch([read("S", "12:00", 300.0)], ms("12:01")))
    assert gap_rows(session, "S") == [(ms("10:30"), ms("12:00"), 3, False, "timer", None)]


async def test_a_lasting_window_threshold_breach_is_one_alert_row(
    cassandra_sink: Sink, session: Session
) -> None:
    scenario = Scenario(demo_settings().validator())  # 1-minute windows, 50 Wh
    minutes = [(0, 1000.0), (1, 1100.0), (2, 1200.0), (3, 1300.0), (4, 1310.0), (5, 1320.0)]
    readings = [read("W", f"10:{minute:02d}", wh) for minute, wh in minutes]
    await cassandra_sink.write(scenario.batch(readings, ms("10:07")))
    assert alert_rows(session, ["W"]) == [
        ("W", "window_energy", ms("10:00"), ms("10:01"), 100.0, 50.0, "Wh", "Alert")
    ]


# --- InfluxDB -------------------------------------------------------------------------


def example_queries() -> list[str]:
    """The InfluxQL examples of the metrics sink's docstring, continuation lines joined."""
    text = (metrics_sink.__doc__ or "").split("Example InfluxQL", 1)[1]
    queries: list[str] = []
    for line in text.splitlines():
        if line.startswith("    SELECT"):
            queries.append(line.strip())
        elif line.startswith("        ") and queries:
            queries[-1] += " " + line.strip()
    return queries


def influx_values(sink: MetricsSink, query: str) -> dict[str, list[Any]]:
    """Non-empty rows of each series of ``query``, by the series' tag values."""
    reply = json.loads(sink.query(query))
    result = reply["results"][0]
    assert "error" not in result, result
    series = {}
    for serie in result.get("series", []):
        key = ",".join(str(v) for v in serie.get("tags", {}).values())
        series[key] = [row[1:] for row in serie["values"] if any(v is not None for v in row[1:])]
    return series


@pytest.fixture
def influx(connections: ConnectionSettings) -> Iterator[tuple[str, str]]:
    database = f"sinks_{RUN}_{uuid.uuid4().hex[:6]}"
    yield connections.influxdb_url, database
    MetricsSink(connections.influxdb_url, database).query(f'DROP DATABASE "{database}"')


async def test_metrics_examples_return_the_batch_counts_once_despite_a_retry(
    influx: tuple[str, str],
) -> None:
    sink = MetricsSink(*influx, instance_offset_ns=123, replica="app-1")
    now_ms = int(time.time() * 1000)
    batch = dataclasses.replace(mixed_batch(now_ms), pending_messages=4, sink_retries=1)
    await sink.write(batch)
    await sink.write(batch)  # a retry of the same batch counts nothing new
    pipeline, rules, dead_letters, throughput, lag, latency, consumer, per_replica, completeness = (
        influx_values(sink, query) for query in example_queries()
    )
    assert pipeline == {
        "accepted": [[5]], "flagged": [[3]], "duplicate": [[1]], "rejected": [[2]],
        "dead_letter": [[1]],
    }  # fmt: skip
    assert rules == {
        "voltage": [[1]], "gap": [[1]], "register": [[1]], "duplicate": [[1]], "lateness": [[1]]
    }  # fmt: skip
    assert dead_letters == {"not_json": [[1]]}
    assert throughput == {"": [[11 / 60]]}
    lags = sorted(r.received_ms - r.verdict.ts_ms for r in batch.readings)
    assert lag == {"": [[lags[len(lags) // 2], lags[-1]]]}
    assert latency == {"0": [[400.0]]}
    assert consumer == {"0": [[4]]}
    assert per_replica == {"app-1": [[11 / 60]]}
    assert completeness == {"": [[8 / 10]]}


async def test_two_app_instances_in_one_minute_add_up(influx: tuple[str, str]) -> None:
    minute_ms = int(time.time() * 1000) // MINUTE_MS * MINUTE_MS
    first = MetricsSink(*influx, instance_offset_ns=1)
    second = MetricsSink(*influx, instance_offset_ns=2)
    await first.write(mixed_batch(minute_ms + 1_000))
    await first.write(mixed_batch(minute_ms + 2_000))
    await second.write(mixed_batch(minute_ms + 3_000))
    query = 'SELECT sum("readings"), sum("batches") FROM "throughput" WHERE time > now() - 1h'
    assert influx_values(first, query) == {"": [[33, 3]]}


# --- NATS -----------------------------------------------------------------------------


async def stream_messages(sink: NatsSink, stream: str, after_seq: int) -> list[Any]:
    """Messages of ``stream`` stored after ``after_seq``."""
    last_seq = (await sink.js.stream_info(stream)).state.last_seq
    messages = []
    for seq in range(after_seq + 1, last_seq + 1):
        try:
            messages.append(await sink.js.get_msg(stream, seq))
        except NotFoundError:  # removed by the stream's limits
            continue
    return messages


async def last_seqs(sink: NatsSink) -> tuple[int, int]:
    events = await sink.js.stream_info(EVENTS_STREAM)
    letters = await sink.js.stream_info(DEAD_LETTER_STREAM)
    return events.state.last_seq, letters.state.last_seq


async def test_events_and_dead_letters_are_published_once_when_a_batch_is_written_twice(
    connections: ConnectionSettings,
) -> None:
    sink = await NatsSink.connect(connections.nats_url)
    try:
        events_seq, letters_seq = await last_seqs(sink)
        batch = mixed_batch(ms("14:00"))
        await sink.write(batch)
        await sink.write(batch)
        events = await stream_messages(sink, EVENTS_STREAM, events_seq)
        letters = await stream_messages(sink, DEAD_LETTER_STREAM, letters_seq)
    finally:
        await sink.close()
    ours = [
        m for m in events if (m.headers or {}).get("Smart-Meter-Meter", "").startswith(f"T{RUN}-")
    ]
    assert sorted(
        (m.subject, json.loads(m.data)["type"], m.headers["Smart-Meter-Meter"]) for m in ours
    ) == sorted(
        [
            ("meter.alerts.voltage", "VoltageEvent", meter("A")),
            ("meter.gaps", "Gap", meter("A")),
            ("meter.alerts.register_decrease", "RegisterEvent", meter("A")),
            ("meter.alerts.conflicting_duplicate", "DuplicateEvent", meter("B")),
            ("meter.late", "LateEvent", meter("B")),
        ]
    )
    late = next(json.loads(m.data) for m in ours if m.subject == "meter.late")
    assert (late["lateness"], late["reading"]["import_wh"]) == ("TOO_LATE", 700.0)
    gap = next(json.loads(m.data) for m in ours if m.subject == "meter.gaps")
    assert (gap["start_ms"], gap["end_ms"], gap["missing_intervals"]) == (
        ms("12:00"),
        ms("13:00"),
        2,
    )
    [letter] = [m for m in letters if (m.headers or {}).get("Smart-Meter-Subject") == f"dl.{RUN}"]
    assert letter.data == b"{not json"
    assert letter.headers["Smart-Meter-Reason"] == "invalid JSON: expected value"
    assert letter.headers["Smart-Meter-Field"] == "body"
    assert letter.headers["Smart-Meter-Error-Kind"] == "not_json"
    assert letter.headers["Nats-Msg-Id"] == f"dl::dl.{RUN}:7:2"  # no readings stream: no scope


async def test_the_side_streams_are_bounded_as_configured_once_the_sink_ensured_them(
    connections: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = StreamLimits()
    configured = StreamLimits(  # above the defaults: no one's messages are dropped meanwhile
        dead_letter_max_age_s=defaults.dead_letter_max_age_s + 3600,
        dead_letter_max_bytes=defaults.dead_letter_max_bytes + (1 << 20),
        findings_max_age_s=defaults.findings_max_age_s + 3600,
        findings_max_bytes=defaults.findings_max_bytes + (2 << 20),
    )
    for name, value in configured.model_dump().items():
        monkeypatch.setenv(f"SMART_METER_STREAMS_{name.upper()}", str(value))
    sink = await NatsSink.connect(connections.nats_url, findings=True)
    try:
        letters = (await sink.js.stream_info(DEAD_LETTER_STREAM)).config
        findings = (await sink.js.stream_info(FINDINGS_STREAM)).config
    finally:
        await ensure_stream(sink.js, dead_letter_stream_config(defaults))
        await ensure_stream(sink.js, findings_stream_config(defaults))
        await sink.close()
    assert (letters.max_age, letters.max_bytes) == (
        configured.dead_letter_max_age_s,
        configured.dead_letter_max_bytes,
    )
    assert (findings.max_age, findings.max_bytes) == (
        configured.findings_max_age_s,
        configured.findings_max_bytes,
    )


async def test_a_gap_and_its_final_extent_are_two_messages(connections: ConnectionSettings) -> None:
    sink = await NatsSink.connect(connections.nats_url)
    try:
        events_seq, _ = await last_seqs(sink)
        scenario = Scenario()
        await sink.write(
            scenario.batch([read("N", "10:00", 100.0)], ms("11:16"), expire_to_ms=ms("11:15"))
        )
        await sink.write(scenario.batch([read("N", "12:00", 300.0)], ms("12:01")))
        events = await stream_messages(sink, EVENTS_STREAM, events_seq)
    finally:
        await sink.close()
    gaps = [json.loads(m.data) for m in events if m.headers.get("Smart-Meter-Meter") == meter("N")]
    assert [(g["start_ms"], g["end_ms"], g["open"]) for g in gaps] == [
        (ms("10:30"), ms("11:30"), True),
        (ms("10:30"), ms("12:00"), False),
    ]


# --- failures -------------------------------------------------------------------------


class TcpProxy:
    """Forwards a free local port to a server; ``cut()`` drops every connection through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, target_writer]
        await asyncio.gather(self._pump(reader, target_writer), self._pump(target_reader, writer))

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass  # the other side is gone: the connection ends
        finally:
            writer.close()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


@pytest.mark.parametrize("client", CLIENTS)
async def test_cassandra_out_of_reach_at_start_is_transient(
    client: CassandraClient, connections: ConnectionSettings
) -> None:
    closed = connections.model_copy(update={"cassandra_port": free_port()})
    with pytest.raises(TransientSinkError) as caught:
        await open_cassandra_sink(client, closed)
    assert caught.value.sink == "cassandra"
    assert "NoHostAvailable" in caught.value.reason


class HostUp(HostStateListener):  # type: ignore[misc]
    """Sets an asyncio event when the driver sees a host come (back) up."""

    def __init__(self) -> None:
        self.loop, self.event = asyncio.get_running_loop(), asyncio.Event()

    def on_up(self, host: object) -> None:
        self.loop.call_soon_threadsafe(self.event.set)

    def on_down(self, host: object) -> None: ...
    def on_add(self, host: object) -> None: ...
    def on_remove(self, host: object) -> None: ...


async def open_watched(
    client: CassandraClient, connections: ConnectionSettings
) -> tuple[Sink, asyncio.Event]:
    """The sink of ``client``, and an event its driver sets when a host comes up (call
    ``clear()`` before waiting for it)."""
    if client == "driver":
        driver_sink = await CassandraSink.open(connections)
        host_up = HostUp()
        driver_sink.session.cluster.register_listener(host_up)
        return driver_sink, host_up.event
    loop, up = asyncio.get_running_loop(), asyncio.Event()

    def listen(event: acsylla.HostListenerEvent, host: str) -> None:
        if event == acsylla.HostListenerEvent.UP:
            loop.call_soon_threadsafe(up.set)

    return await AcsyllaSink.open(connections, host_listener=listen), up


@pytest.mark.parametrize("client", CLIENTS)
async def test_cassandra_lost_while_writing_is_transient_until_it_returns(
    client: CassandraClient, connections: ConnectionSettings, session: Session
) -> None:
    proxy = TcpProxy(connections.cassandra_port)
    await proxy.start()
    through_proxy = connections.model_copy(update={"cassandra_port": proxy.port})
    sink, host_up = await open_watched(client, through_proxy)
    name = f"P{client}"
    try:
        scenario = Scenario()
        await sink.write(scenario.batch([read(name, "10:00", 100.0)], ms("10:01")))
        await proxy.cut()
        retried = scenario.batch([read(name, "10:30", 200.0)], ms("10:31"))
        with pytest.raises(TransientSinkError) as caught:
            await sink.write(retried)
        host_up.clear()
        await proxy.start()
        await asyncio.wait_for(host_up.wait(), timeout=120)
        failures = await write_until_stored(sink, retried, attempts=5)
    finally:
        await sink.close()
        await proxy.cut()
    assert caught.value.sink == "cassandra"
    assert failures < 5
    assert [row[:2] for row in reading_rows(session, name)] == [
        (ms("10:00"), 100.0),
        (ms("10:30"), 200.0),
    ]


async def test_influxdb_out_of_reach_is_transient() -> None:
    sink = MetricsSink(f"http://127.0.0.1:{free_port()}", "nowhere")
    with pytest.raises(TransientSinkError) as caught:
        await sink.write(mixed_batch(ms("14:00")))
    assert caught.value.sink == "influxdb"


async def test_nats_out_of_reach_at_start_is_transient() -> None:
    with pytest.raises(TransientSinkError) as caught:
        await NatsSink.connect(f"nats://127.0.0.1:{free_port()}", connect_timeout_s=1.0)
    assert caught.value.sink == "nats"


async def test_nats_server_gone_while_publishing_is_transient_until_it_returns(
    isolated_settings: StackSettings,
) -> None:
    stack = LocalStack(isolated_settings)  # a server of this test's own, stopped by it
    stack.up(["nats"])
    url = f"nats://{isolated_settings.host}:{isolated_settings.nats_port}"
    sink = await NatsSink.connect(url, timeout_s=1.0)
    try:
        await sink.write(mixed_batch(ms("14:00")))
        stack.down(["nats"])
        with pytest.raises(TransientSinkError) as caught:
            await sink.write(mixed_batch(ms("14:05")))
        stack.up(["nats"])
        failures = await write_until_stored(sink, mixed_batch(ms("14:10")), attempts=30)
    finally:
        await sink.nc.close()
        stack.down(["nats"])
    assert caught.value.sink == "nats"
    assert failures < 30


async def write_until_stored(sink: Sink, batch: ProcessedBatch, attempts: int) -> int:
    """Write until the sink takes the batch; the number of transient failures before."""
    for failures in range(attempts):
        try:
            await sink.write(batch)
        except TransientSinkError:
            continue
        return failures
    return attempts
