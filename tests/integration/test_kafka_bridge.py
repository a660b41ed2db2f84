"""The Kafka bridge against the real NATS and Kafka: killed mid-stream, restarted, nothing lost.

The READINGS stream is shared with other tests, so each test uses meters, a durable,
a consumer group and topics of its own (a unique prefix) and starts reading at the
stream's sequence at test start; it never purges the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import orjson
import pytest
from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from kafka_bridge.dead_letter import REASON_HEADER, SOURCE_HEADER
from kafka_bridge.kafka_to_nats import SOURCE as KAFKA_TO_NATS
from kafka_bridge.nats_to_kafka import SOURCE as NATS_TO_KAFKA
from kafka_bridge.records import DEDUP_HEADER, header_value
from kafka_bridge.topics import ensure_topic, partition_count
from smart_meter.codec import ReadingError, decode_message, encode_batch, encode_reading
from smart_meter.publisher import ReadingPublisher
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import DEAD_LETTER_STREAM, ensure_readings_streams
from smart_meter.subjects import (
    DEAD_LETTER_SUBJECT,
    READINGS_PREFIX,
    READINGS_STREAM,
    partition_of,
    readings_subject,
)

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BASE_TIME = datetime(2024, 3, 1, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)
FETCH_BATCH = 16  # messages per bridge batch: small, so a kill lands mid-stream
READINGS_PER_MESSAGE = 10
Key = tuple[str, int]


# --- readings ---------------------------------------------------------------------------


def tick(prefix: str, meters: int, interval: int) -> list[Reading]:
    """Every meter's reading at one interval; the register grows with the interval."""
    when = BASE_TIME + interval * INTERVAL
    return [
        Reading(
            meter_id=f"{prefix}-{m:04d}", ts=when, seq=interval, import_wh=1e5 + 250.0 * interval
        )
        for m in range(meters)
    ]


def expected_by_meter(readings: list[Reading]) -> dict[str, list[int]]:
    by_meter: dict[str, list[int]] = defaultdict(list)
    for reading in readings:
        by_meter[reading.meter_id].append(reading.ts_ms)
    return {meter: sorted(times) for meter, times in by_meter.items()}


def replays_of(observed: list[int], expected: list[int]) -> int:
    """How many times a meter's sequence went back (a replayed suffix); fail on disorder.

    At-least-once with ordered replays allows exactly this shape: the expected times in
    order, where at some points the sequence steps back and repeats a stretch it already
    had, then goes on. A step forward that skips a reading is loss or reordering.
    """
    position = {ts: i for i, ts in enumerate(expected)}
    previous, replays = -1, 0
    for ts in observed:
        index = position[ts]
        if index <= previous:
            replays += 1
        elif index != previous + 1:
            raise AssertionError(f"skipped from {expected[previous]} to {ts}: out of order")
        previous = index
    return replays


# --- processes, polling -----------------------------------------------------------------


@dataclass
class BridgeProcess:
    """``python -m kafka_bridge ...`` as a real subprocess, run (and killed) repeatedly."""

    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    runs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.runs[-1]

    def log(self, stream: str) -> str:
        """The current run's ``out`` or ``err``."""
        return (self.log_dir / f"run{len(self.runs)}.{stream}").read_text()

    def start(self) -> None:
        n = len(self.runs) + 1
        with (
            (self.log_dir / f"run{n}.out").open("wb") as out,
            (self.log_dir / f"run{n}.err").open("wb") as err,
        ):
            command = [sys.executable, "-m", "kafka_bridge", *self.argv]
            self.runs.append(
                subprocess.Popen(command, cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=err)
            )

    def kill(self) -> None:
        self.current.send_signal(signal.SIGKILL)
        self.current.wait(timeout=30)

    def stop(self) -> dict[str, int]:
        """SIGTERM, wait, and return the counters the bridge printed on exit."""
        self.current.send_signal(signal.SIGTERM)
        code = self.current.wait(timeout=60)
        assert code == 0, self.log("err")
        summary = self.log("out").strip().splitlines()[-1]
        return {k: int(v) for k, v in (pair.split("=") for pair in summary.split(": ")[1].split())}

    def check_alive(self) -> None:
        code = self.current.poll()
        if code is not None:
            pytest.fail(f"bridge exited with {code}:\n{self.log('err')}")

    def cleanup(self) -> None:
        for run in self.runs:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=30)


@pytest.fixture
def bridge_env(connections: ConnectionSettings) -> dict[str, str]:
    return {
        **os.environ,
        "SMART_METER_NATS_URL": connections.nats_url,
        "SMART_METER_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SMART_METER_PARTITIONS": str(connections.partitions),
    }


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def kafka_admin(connections: ConnectionSettings) -> Iterator[tuple[AdminClient, list[str]]]:
    """An admin client, and a list of topics the test made (deleted afterwards)."""
    admin = AdminClient({"bootstrap.servers": connections.kafka_bootstrap})
    topics: list[str] = []
    yield admin, topics
    existing = [topic for topic in topics if partition_count(admin, topic) is not None]
    if existing:
        for future in admin.delete_topics(existing, operation_timeout=30).values():
            future.result()


async def wait_until(
    condition: Callable[[], bool], what: str, bridge: BridgeProcess, timeout_s: float = 120.0
) -> None:
    """Poll ``condition`` (a count) until true; fail if the bridge died or time ran out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        bridge.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


def topic_record_count(consumer: Consumer, admin: AdminClient, topic: str) -> int:
    """A lower bound of the records in a topic, from its partitions' watermarks.

    0 until the bridge created the topic; a partition whose leader is not known yet
    (just after creation) counts 0 this time round.
    """
    total = 0
    for partition in range(partition_count(admin, topic) or 0):
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        except KafkaException:
            continue
        total += high - low
    return total


# --- JetStream helpers ------------------------------------------------------------------


async def last_seq(js: JetStreamContext, stream: str) -> int:
    info = await js.stream_info(stream)
    return int(info.state.last_seq)


async def read_stream(
    js: JetStreamContext, stream: str, subject: str, start_seq: int, until_seq: int
) -> list[Msg]:
    """Every message of ``stream`` from ``start_seq`` to ``until_seq`` (ephemeral consumer)."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start_seq,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
    )
    subscription = await js.pull_subscribe(subject, stream=stream, config=config)
    messages: list[Msg] = []
    try:
        while not messages or messages[-1].metadata.sequence.stream < until_seq:
            try:
                messages.extend(await subscription.fetch(1000, timeout=5))
            except TimeoutError:  # nats' and asyncio's
                break
    finally:
        await subscription.unsubscribe()
    return messages


def readings_of(message: Msg) -> list[Reading]:
    """The readings of a stream message; none for the malformed ones other tests inject."""
    try:
        return decode_message(message.data).readings
    except ReadingError:
        return []


def headers_of(message: Msg) -> dict[str, str]:
    return message.headers or {}


# --- NATS → Kafka -----------------------------------------------------------------------


@dataclass
class KafkaRecordSeen:
    partition: int
    offset: int
    meter_id: str
    ts_ms: int
    dedup_id: str | None


def seen_record(record: Message) -> KafkaRecordSeen:
    """What the check needs of a mirrored record; the key must be the meter id."""
    assert record.error() is None, record.error()
    value, partition, offset = record.value(), record.partition(), record.offset()
    assert value is not None and partition is not None and offset is not None
    reading = decode_message(value).readings[0]
    assert record.key() == reading.meter_id.encode()
    dedup = header_value(record.headers(), DEDUP_HEADER)
    return KafkaRecordSeen(partition, offset, reading.meter_id, reading.ts_ms, dedup)


def read_topic(bootstrap: str, topic: str, prefix: str, wanted: set[Key]) -> list[KafkaRecordSeen]:
    """Every record of ``topic`` for meters of ``prefix``, until all ``wanted`` keys are seen."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    seen: list[KafkaRecordSeen] = []
    missing = set(wanted)
    deadline = time.monotonic() + 120
    try:
        while missing and time.monotonic() < deadline:
            for record in consumer.consume(1000, timeout=1.0):
                one = seen_record(record)
                if one.meter_id.startswith(prefix):
                    seen.append(one)
                    missing.discard((one.meter_id, one.ts_ms))
    finally:
        consumer.close()
    assert not missing, f"{len(missing)} readings never reached Kafka, e.g. {sorted(missing)[:3]}"
    return sorted(seen, key=lambda r: (r.partition, r.offset))


async def publish_ticks(nc: NatsClient, ticks: list[list[Reading]], partitions: int) -> None:
    publisher = ReadingPublisher(nc, partitions, batch_size=READINGS_PER_MESSAGE)
    for readings in ticks:
        await publisher.publish(readings)
    await publisher.flush()


async def publish_poison(js: JetStreamContext, prefix: str) -> Reading:
    """A broken message and a batch with one invalid entry; returns the batch's good reading."""
    await js.publish(readings_subject(0), f'{{"v": 1, "meter_id": "{prefix}-broken'.encode())
    good = Reading(meter_id=f"{prefix}-mixed", ts=BASE_TIME, import_wh=1.0)
    bad = {"meter_id": f"{prefix}-bad", "ts": "2024-03-01T00:00:00Z", "import_wh": -5}
    entries = [{"meter_id": good.meter_id, "ts": "2024-03-01T00:00:00Z", "import_wh": 1.0}, bad]
    subject = readings_subject(partition_of(good.meter_id))
    await js.publish(subject, orjson.dumps({"v": 1, "readings": entries}))
    return good


def check_mirror(seen: list[KafkaRecordSeen], published: list[Reading], partitions: int) -> int:
    """Every reading there, in meter order, at most one replay per meter; return duplicates."""
    expected = expected_by_meter(published)
    observed: dict[str, list[int]] = defaultdict(list)
    for record in seen:
        assert record.partition == partition_of(record.meter_id, partitions)
        assert record.dedup_id == f"{record.meter_id}@{record.ts_ms}"
        observed[record.meter_id].append(record.ts_ms)
    assert set(observed) == set(expected)
    replays = {meter: replays_of(observed[meter], expected[meter]) for meter in expected}
    assert max(replays.values()) <= 1, "more replays than restarts"
    return len(seen) - len(published)


async def dead_letter_reasons(
    js: JetStreamContext, start_seq: int, source: str, marker: bytes
) -> dict[bytes, str]:
    """Dead letters from ``source`` since ``start_seq`` whose bytes contain ``marker``."""
    until = await last_seq(js, DEAD_LETTER_STREAM)
    letters = await read_stream(js, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT, start_seq, until)
    return {
        m.data: headers_of(m)[REASON_HEADER]
        for m in letters
        if headers_of(m).get(SOURCE_HEADER) == source and marker in m.data
    }


@pytest.fixture
async def nc(connections: ConnectionSettings) -> AsyncIterator[NatsClient]:
    client = await nats.connect(connections.nats_url)
    await ensure_readings_streams(client.jetstream())
    yield client
    await client.close()


async def test_bridge_killed_mid_stream_loses_nothing_and_keeps_meter_order(
    connections: ConnectionSettings,
    nc: NatsClient,
    bridge_env: dict[str, str],
    run_id: str,
    kafka_admin: tuple[AdminClient, list[str]],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    prefix, partitions = f"KB{run_id}", connections.partitions
    topic, durable = f"bridge-test-{run_id}", f"bridge-test-{run_id}"
    kafka_admin[1].append(topic)
    js = nc.jetstream()
    start_seq = await last_seq(js, READINGS_STREAM) + 1
    dead_letter_start = await last_seq(js, DEAD_LETTER_STREAM) + 1
    meters, first_part, intervals = 100, 80, 120
    ticks = [tick(prefix, meters, i) for i in range(intervals)]
    published = [r for readings in ticks for r in readings]
    published.append(await publish_poison(js, prefix))
    await publish_ticks(nc, ticks[:first_part], partitions)

    bridge = BridgeProcess(
        ["nats-to-kafka", "--durable", durable, "--topic", topic, "--batch", str(FETCH_BATCH),
         "--start-seq", str(start_seq), "--ack-wait-s", "5"],
        bridge_env, tmp_path,
    )  # fmt: skip
    watermarks = Consumer({"bootstrap.servers": connections.kafka_bootstrap, "group.id": "wm"})

    def in_kafka() -> int:
        return topic_record_count(watermarks, kafka_admin[0], topic)

    try:
        bridge.start()
        await wait_until(lambda: in_kafka() >= 2000, "2000 readings in Kafka", bridge)
        bridge.kill()  # SIGKILL mid-stream: a batch is in flight, un-acked
        at_kill = in_kafka()
        assert at_kill < meters * first_part, "the bridge had drained the stream: not mid-stream"
        await publish_ticks(nc, ticks[first_part:], partitions)  # the stream goes on meanwhile
        bridge.start()
        await wait_until(lambda: in_kafka() >= len(published), "every reading in Kafka", bridge)
        seen = read_topic(connections.kafka_bootstrap, topic, prefix, {r.key for r in published})
        counters = bridge.stop()
    finally:
        watermarks.close()
        bridge.cleanup()
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(READINGS_STREAM, durable)

    duplicates = check_mirror(seen, published, partitions)
    record_property("duplicates", duplicates)
    print(f"\nNATS→Kafka: {len(published)} readings, killed at {at_kill} in Kafka, "
          f"{duplicates} duplicates after the restart; restarted bridge: {counters}")  # fmt: skip
    assert 0 <= duplicates <= FETCH_BATCH * READINGS_PER_MESSAGE  # at most the batch in flight
    reasons = await dead_letter_reasons(js, dead_letter_start, NATS_TO_KAFKA, prefix.encode())
    assert len(reasons) == 2, reasons  # the broken message, the invalid entry of the batch
    assert any("not valid JSON" in reason for reason in reasons.values())
    assert any("import_wh" in reason for reason in reasons.values())


# --- Kafka → NATS -----------------------------------------------------------------------


def poison_record(prefix: str) -> bytes:
    return f"{{not json {prefix}".encode()


def check_stored_once_in_order(stored: list[Reading], readings: list[Reading]) -> None:
    """Exactly the source's readings, each once, each meter's in event-time order."""
    copies = Counter(reading.key for reading in stored)
    assert set(copies) == {reading.key for reading in readings}, "a reading is missing"
    assert max(copies.values()) == 1, "JetStream stored a reading twice"
    by_meter: dict[str, list[int]] = defaultdict(list)
    for reading in stored:
        by_meter[reading.meter_id].append(reading.ts_ms)
    assert all(times == sorted(times) for times in by_meter.values()), "meter order broken"


def produce_source(bootstrap: str, topic: str, prefix: str) -> tuple[list[Reading], int]:
    """Single readings keyed by meter, concentrator batches keyed by concentrator, one broken.

    Returns the readings and the number of records produced.
    """
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    readings: list[Reading] = []
    records = 0
    for interval in range(60):
        for reading in tick(prefix, 80, interval):
            producer.produce(topic, key=reading.meter_id, value=encode_reading(reading))
            readings.append(reading)
            records += 1
        for dc in range(10):
            batch = tick(f"{prefix}-dc{dc}", 10, interval)
            producer.produce(topic, key=f"{prefix}-dc{dc}", value=encode_batch(batch, f"DC{dc}"))
            readings.extend(batch)
            records += 1
        producer.poll(0)
    producer.produce(topic, key=f"{prefix}-broken", value=poison_record(prefix))
    assert producer.flush(30) == 0
    return readings, records + 1


@dataclass
class CommittedCount:
    """How many records of a topic a group has committed (its offsets, summed)."""

    consumer: Consumer
    topic: str
    partitions: int

    def __call__(self) -> int:
        wanted = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        return sum(max(tp.offset, 0) for tp in self.consumer.committed(wanted, timeout=10))


async def test_kafka_source_restarted_mid_stream_lands_in_jetstream_exactly_once(
    connections: ConnectionSettings,
    nc: NatsClient,
    bridge_env: dict[str, str],
    run_id: str,
    kafka_admin: tuple[AdminClient, list[str]],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    prefix, source_partitions = f"KN{run_id}", 4
    topic, group = f"bridge-in-{run_id}", f"bridge-in-{run_id}"
    bootstrap = connections.kafka_bootstrap
    kafka_admin[1].append(topic)
    ensure_topic(bootstrap, topic, source_partitions)
    js = nc.jetstream()
    start_seq = await last_seq(js, READINGS_STREAM) + 1
    dead_letter_start = await last_seq(js, DEAD_LETTER_STREAM) + 1
    readings, records = produce_source(bootstrap, topic, prefix)

    bridge = BridgeProcess(
        ["kafka-to-nats", "--durable", group, "--topic", topic, "--batch", "200",
         "--instance-id", f"{group}-0"],
        bridge_env, tmp_path,
    )  # fmt: skip
    # Not subscribed, so it never joins the group: it only reads the group's offsets.
    offsets = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    committed = CommittedCount(offsets, topic, source_partitions)
    try:
        bridge.start()
        await wait_until(lambda: committed() >= records // 3, "a third committed", bridge)
        bridge.kill()  # SIGKILL: a chunk is likely in JetStream but not committed
        bridge.start()
        await wait_until(lambda: committed() >= records, "the whole source committed", bridge)
        counters = bridge.stop()
    finally:
        offsets.close()
        bridge.cleanup()

    until = await last_seq(js, READINGS_STREAM)
    messages = await read_stream(js, READINGS_STREAM, f"{READINGS_PREFIX}.*", start_seq, until)
    stored = [r for m in messages for r in readings_of(m) if r.meter_id.startswith(prefix)]
    check_stored_once_in_order(stored, readings)
    record_property("republished_duplicates_dropped", counters["duplicates"])
    print(f"\nKafka→NATS: {len(readings)} readings stored once each; after the restart "
          f"{counters['duplicates']} re-read readings were dropped by JetStream dedup")  # fmt: skip
    reasons = await dead_letter_reasons(js, dead_letter_start, KAFKA_TO_NATS, prefix.encode())
    assert list(reasons) == [poison_record(prefix)]
