"""End to end, for the pipeline benchmark: readings published to a JetStream stream of
this run, ``--apps`` processes of ``python -m streaming_app run`` (prod preset, the
partitions split between them: process *i* of *n* owns the partitions ``p % n == i``)
validating and storing them in Cassandra, every reading then counted back.

- ``live``: the apps are up first (every partition has its consumer); the readings are
  published paced (``rate`` readings/s, 0: as fast as the publisher goes) while the apps
  work. The window runs from the first publish to the last ack; latency is JetStream's
  publish timestamp to the row's ``ingested_at`` (a sample of messages).
- ``catch-up``: the whole backlog is published before any app starts (meters catching
  up after an outage); the window runs from the creation of the first partition
  consumer (nothing is delivered before it; the app's start-up is left out) to the
  last ack.

Over the window: CPU seconds of the app processes, of the Cassandra server and of the
NATS server (found by their listening ports; sampled every :data:`TRACE_S` until the
consumers exist, then with the ack floors every :data:`POLL_S`), the apps' resident
memory at both ends and at its highest, and the machine's load average. In catch-up,
the NATS server's CPU while the backlog was published is added to its share.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

import nats
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from bench.pipeline_stats import micros_per, per_second
from bench.proc_cpu import CpuTrace, Servers, cpu_seconds, rss_bytes
from inject.fleet import Fleet, FleetConfig
from inject.loadtest.jetstream import OutgoingMessage, plan_messages
from smart_meter.codec import decode_message
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from smart_meter.streams import readings_stream_config
from smart_meter.subjects import READINGS_PREFIX, ReadingsDestination

Mode = Literal["live", "catch-up"]
MODES: tuple[Mode, ...] = ("live", "catch-up")
START = datetime(2024, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
CLIENT_ENV = "SMART_METER_APP_CASSANDRA_CLIENT"
POLL_S = 0.2
TRACE_S = 0.05
LATENCY_SAMPLE = 2_000  # messages whose publish timestamps are read back (live)
MiB = 2**20


def fleet_readings(meters: int, intervals: int, prefix: str) -> list[Reading]:
    """Every meter's half-hourly reading of each interval, meter ids prefixed."""
    fleet = Fleet(FleetConfig(meters=meters, interval_s=1800), START)
    readings = [r for _, interval in fleet.run(intervals) for r in interval]
    return with_prefix(readings, prefix) if prefix else readings


def with_prefix(readings: Sequence[Reading], prefix: str) -> list[Reading]:
    return [r.model_copy(update={"meter_id": f"{prefix}{r.meter_id}"}) for r in readings]


@dataclass(frozen=True)
class E2ENames:
    """Everything a run creates on the servers, unique to it."""

    run: str

    @property
    def stream(self) -> str:
        return f"BENCH_{self.run.upper()}"

    @property
    def subject_prefix(self) -> str:
        return f"bench.{self.run}.readings"

    @property
    def durable_prefix(self) -> str:
        return f"bench{self.run}"

    @property
    def buckets(self) -> tuple[str, str]:
        return f"bench_{self.run}_state", f"bench_{self.run}_coord"

    def app_env(self, keyspace: str, client: str) -> dict[str, str]:
        state, coord = self.buckets
        return {
            **os.environ,
            "SMART_METER_APP_STREAM": self.stream,
            "SMART_METER_APP_SUBJECT_PREFIX": self.subject_prefix,
            "SMART_METER_APP_DURABLE_PREFIX": self.durable_prefix,
            "SMART_METER_APP_STATE_BUCKET": state,
            "SMART_METER_APP_COORD_BUCKET": coord,
            "SMART_METER_CASSANDRA_KEYSPACE": keyspace,
            "SMART_METER_INFLUXDB_DATABASE": keyspace,
            CLIENT_ENV: client,
        }


def split_partitions(partitions: int, apps: int) -> list[list[int]]:
    """Process *i* of ``apps`` owns the partitions ``p % apps == i``."""
    if not 1 <= apps <= partitions:
        raise ValueError(f"--apps must be 1..{partitions} (the partitions), got {apps}")
    return [[p for p in range(partitions) if p % apps == i] for i in range(apps)]


@dataclass(frozen=True)
class E2EOptions:
    readings: int
    meters: int
    per_message: int
    apps: int
    mode: Mode
    rate_per_s: float  # live: publishing pace, readings/s (0: flat out)
    client: str
    timeout_s: float
    keyspace: str
    run: str


@dataclass(frozen=True)
class E2EResult:
    """One end-to-end run and what it cost."""

    mode: Mode
    apps: int
    per_message: int
    client: str
    published: int
    stored: int
    counted: int  # readings processed inside the window
    seconds: float
    publish_s: float
    app_cpu_s: float
    cassandra_cpu_s: float
    nats_cpu_s: float
    rss_start: int
    rss_end: int
    rss_peak: int
    load: float
    pace: float
    to_ingested_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def readings_per_s(self) -> float:
        return per_second(self.counted, self.seconds)

    @property
    def app_us(self) -> float:
        return micros_per(self.app_cpu_s, self.counted)

    @property
    def cassandra_us(self) -> float:
        return micros_per(self.cassandra_cpu_s, self.counted)

    @property
    def nats_us(self) -> float:
        return micros_per(self.nats_cpu_s, self.counted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "apps": self.apps,
            "per_message": self.per_message,
            "app_client": self.client,
            "published": self.published,
            "stored": self.stored,
            "counted_in_window": self.counted,
            "seconds": round(self.seconds, 3),
            "readings_per_s": round(self.readings_per_s, 1),
            "publish_s": round(self.publish_s, 3),
            "pace_readings_per_s": round(self.pace, 1),
            "app_cpu_s": round(self.app_cpu_s, 3),
            "app_cpu_us_per_reading": round(self.app_us, 1),
            "cassandra_cpu_us_per_reading": round(self.cassandra_us, 1),
            "nats_cpu_us_per_reading": round(self.nats_us, 1),
            "app_rss_mib": {
                "start": round(self.rss_start / MiB, 1),
                "end": round(self.rss_end / MiB, 1),
                "peak": round(self.rss_peak / MiB, 1),
            },
            "load_1min": round(self.load, 2),
            "latency_publish_to_ingested_ms": latency_summary(self.to_ingested_ms),
        }


def latency_summary(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)

    def pct(percent: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))])

    return {"p50": pct(50), "p99": pct(99), "samples": len(ordered)}


def e2e_messages(
    options: E2EOptions, names: E2ENames, partitions: int
) -> tuple[list[Reading], list[OutgoingMessage]]:
    """The run's readings (fresh meter ids) cut into messages as the injector cuts them
    (by partition subject, ``per_message`` a message; one alone is a single-reading
    message), on this run's subjects."""
    intervals = -(-options.readings // options.meters)
    readings = fleet_readings(options.meters, intervals, f"E{options.run}-")[: options.readings]
    planned = plan_messages(readings, partitions, options.per_message)
    messages = [
        OutgoingMessage(
            m.subject.replace(READINGS_PREFIX, names.subject_prefix, 1),
            m.payload,
            m.msg_id,
            m.readings,
        )
        for m in planned
    ]
    return readings, messages


class Apps:
    """The app processes of one run, started as an operator starts replicas."""

    def __init__(self, names: E2ENames, options: E2EOptions, partitions: int) -> None:
        self.log_path = Path(tempfile.gettempdir()) / f"pipeline_e2e_{options.run}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = names.app_env(options.keyspace, options.client)
        self.processes: list[subprocess.Popen[bytes]] = []
        for index, owned in enumerate(split_partitions(partitions, options.apps)):
            command = [sys.executable, "-m", "streaming_app", "run", "--preset", "prod"]
            command += ["--replica-id", f"bench-{names.run}-{index}", "--log-level", "WARNING"]
            command += ["--partitions", ",".join(map(str, owned))]
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=self._log)
            )

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-600:]
                raise RuntimeError(f"an app exited with {process.returncode}: {tail}")

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def stop(self) -> None:
        """SIGTERM every process this run started (each finishes its batch), then wait."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()


async def ack_floors(js: JetStreamContext, names: E2ENames, partitions: int) -> dict[int, int]:
    floors = {}
    for partition in range(partitions):
        with contextlib.suppress(NotFoundError):
            info = await js.consumer_info(names.stream, f"{names.durable_prefix}-p{partition}")
            floors[partition] = info.ack_floor.stream_seq if info.ack_floor else 0
    return floors


async def wait_for_consumers(
    js: JetStreamContext, names: E2ENames, partitions: int, apps: Apps, trace: CpuTrace
) -> None:
    """Until every partition has its durable consumer (the apps claimed them all); the
    processes' CPU sampled every :data:`TRACE_S` meanwhile."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        apps.check_alive()
        trace.sample()
        floors = await ack_floors(js, names, partitions)
        if len(floors) == partitions:
            return
        await asyncio.sleep(TRACE_S)
    raise RuntimeError("the apps did not open their consumers within 180 s")


async def publish(
    js: JetStreamContext, messages: Sequence[OutgoingMessage], rate_per_s: float
) -> list[int]:
    """Publish (paced when ``rate_per_s`` > 0); the stream sequence of each message."""
    began, sent, futures = time.monotonic(), 0, []
    for message in messages:
        if rate_per_s > 0:
            await asyncio.sleep(max(0.0, began + sent / rate_per_s - time.monotonic()))
        futures.append(
            await js.publish_async(
                message.subject, message.payload, headers={"Nats-Msg-Id": message.msg_id}
            )
        )
        sent += message.readings
    await js.publish_async_completed()
    return [future.result().seq for future in futures]


@dataclass
class Follow:
    """Ack floors sampled until every message is acked, with the CPU of the processes, the
    apps' memory and the load."""

    js: JetStreamContext
    names: E2ENames
    partitions: int
    apps: Apps
    trace: CpuTrace
    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)
    rss_peak: int = 0

    async def until(self, done: Callable[[dict[int, int]], bool]) -> None:
        while True:
            floors = await ack_floors(self.js, self.names, self.partitions)
            self.trace.sample()
            self.samples.append((time.time(), floors))
            self.rss_peak = max(self.rss_peak, self.apps.rss())
            if done(floors):
                return
            self.apps.check_alive()
            await asyncio.sleep(POLL_S)


async def first_consumer_created(js: JetStreamContext, names: E2ENames, partitions: int) -> float:
    """When the first partition consumer was created (server clock, this machine's):
    nothing is delivered before it."""
    created: list[float] = []
    for partition in range(partitions):
        info = await js.consumer_info(names.stream, f"{names.durable_prefix}-p{partition}")
        when: object = info.created
        if isinstance(when, str):
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        if not isinstance(when, datetime):
            raise RuntimeError(f"consumer p{partition} has no creation time: {when!r}")
        created.append(when.timestamp())
    return min(created)


async def end_to_end(
    options: E2EOptions, connections: ConnectionSettings, servers: Servers
) -> E2EResult:
    """One run: stream, (backlog,) apps, readings through, count back, clean up."""
    names, partitions = E2ENames(options.run), connections.partitions
    readings, messages = e2e_messages(options, names, partitions)
    nc = await nats.connect(**connections.nats_connect_options())
    js = nc.jetstream(publish_async_max_pending=256)
    destination = ReadingsDestination(names.stream, names.subject_prefix)
    await js.add_stream(readings_stream_config(destination=destination))
    try:
        return await _run(js, names, options, readings, messages, connections, servers)
    finally:
        await cleanup(js, names)
        await nc.close()


async def _run(
    js: JetStreamContext,
    names: E2ENames,
    options: E2EOptions,
    readings: Sequence[Reading],
    messages: Sequence[OutgoingMessage],
    connections: ConnectionSettings,
    servers: Servers,
) -> E2EResult:
    partitions = connections.partitions
    message_partitions = [int(m.subject.rsplit(".", 1)[1]) for m in messages]
    seqs: list[int] = []
    nats_pid = [servers.nats] if servers.nats is not None else []
    backlog_nats_s, publish_s = 0.0, 0.0
    if options.mode == "catch-up":
        nats_before, began = sum(cpu_seconds(p) for p in nats_pid), time.monotonic()
        seqs = await publish(js, messages, 0)
        publish_s = time.monotonic() - began
        backlog_nats_s = sum(cpu_seconds(p) for p in nats_pid) - nats_before
    apps = Apps(names, options, partitions)
    try:
        trace = CpuTrace(
            {
                "app": apps.pids,
                "cassandra": [servers.cassandra] if servers.cassandra is not None else [],
                "nats": nats_pid,
            }
        )
        await wait_for_consumers(js, names, partitions, apps, trace)
        follow = Follow(js, names, partitions, apps, trace)
        rss_start = apps.rss()
        highest: dict[int, int] = {}
        if seqs:
            _note_highest(highest, message_partitions, seqs)

        def all_acked(floors: dict[int, int]) -> bool:
            return bool(highest) and all(floors.get(p, 0) >= s for p, s in highest.items())

        if options.mode == "live":
            trace.sample()
            t0 = time.time()
            following = asyncio.create_task(follow.until(all_acked))
            seqs = await publish(js, messages, options.rate_per_s)
            publish_s = time.time() - t0
            _note_highest(highest, message_partitions, seqs)
        else:
            t0 = await first_consumer_created(js, names, partitions)
            following = asyncio.create_task(follow.until(all_acked))
        await asyncio.wait_for(following, options.timeout_s)
        spent = trace.spent_since(t0)
        rss_end = apps.rss()
    finally:
        apps.stop()
    ingested = _stored(connections, options.keyspace, readings)
    to_ingested: list[float] = []
    if options.mode == "live":
        to_ingested = await _latencies(js, names, messages, seqs, ingested)
    return E2EResult(
        mode=options.mode,
        apps=options.apps,
        per_message=options.per_message,
        client=options.client,
        published=len(readings),
        stored=len(ingested.keys() & {r.key for r in readings}),
        counted=len(readings),
        seconds=follow.samples[-1][0] - t0,
        publish_s=publish_s,
        app_cpu_s=spent["app"],
        cassandra_cpu_s=spent["cassandra"] if servers.cassandra is not None else math.nan,
        nats_cpu_s=spent["nats"] + backlog_nats_s if nats_pid else math.nan,
        rss_start=rss_start,
        rss_end=rss_end,
        rss_peak=max(follow.rss_peak, rss_start, rss_end),
        load=trace.load,
        pace=options.rate_per_s if options.mode == "live" else 0.0,
        to_ingested_ms=to_ingested,
    )


def _note_highest(highest: dict[int, int], partitions: Sequence[int], seqs: Sequence[int]) -> None:
    for partition, seq in zip(partitions, seqs, strict=True):
        highest[partition] = max(highest.get(partition, 0), seq)


def _stored(
    connections: ConnectionSettings, keyspace: str, readings: Sequence[Reading]
) -> dict[tuple[str, int], int]:
    session = open_session(connections.model_copy(update={"cassandra_keyspace": keyspace}))
    try:
        return stored_rows(session, readings)
    finally:
        session.cluster.shutdown()


def stored_rows(session: Session, readings: Sequence[Reading]) -> dict[tuple[str, int], int]:
    """(meter, ts ms) -> ingested_at ms of every stored row of these readings' meter-days."""
    query = session.prepare(
        "SELECT meter_id, ts, ingested_at FROM readings_by_meter_day WHERE meter_id = ? AND day = ?"
    )
    keys: list[tuple[str, date]] = sorted(
        {(r.meter_id, r.ts.astimezone(UTC).date()) for r in readings}
    )
    results = execute_concurrent_with_args(session, query, keys, concurrency=64)
    rows = {}
    for result in results:
        if not result.success:
            raise RuntimeError(f"reading back the stored rows failed: {result.result_or_exc}")
        for row in result.result_or_exc:
            rows[row.meter_id, _ms(row.ts)] = _ms(row.ingested_at)
    return rows


def _ms(when: datetime) -> int:
    return int(when.replace(tzinfo=UTC).timestamp() * 1000)


async def _latencies(
    js: JetStreamContext,
    names: E2ENames,
    messages: Sequence[OutgoingMessage],
    seqs: Sequence[int],
    ingested: dict[tuple[str, int], int],
) -> list[float]:
    """Publish timestamp (JetStream's) to ``ingested_at``, for readings of a sample of
    messages spread over the run."""
    step = max(1, len(messages) // LATENCY_SAMPLE)
    values: list[float] = []
    for index in range(0, len(messages), step):
        stored = await js.get_msg(names.stream, seqs[index])
        stamp = datetime.fromisoformat(str(stored.time)).timestamp() * 1000
        for reading in decode_message(messages[index].payload).readings:
            at = ingested.get(reading.key)
            if at is not None:
                values.append(at - stamp)
    return values


async def cleanup(js: JetStreamContext, names: E2ENames) -> None:
    """Delete this run's stream (and its consumers) and key-value buckets."""
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(names.stream)
    for bucket in names.buckets:
        with contextlib.suppress(NotFoundError):
            await js.delete_key_value(bucket)
