"""Where the time goes between a published reading and a stored one, in one run.

    python -m bench.pipeline_bench [--intervals 100] [--meters 1000] [--batch-size 100]
        [--keyspace smart_meter_bench] [--e2e-readings 100000] [--e2e-rate 0]
        [--skip-e2e | --e2e-only]

Flat out (``--e2e-rate 0``) the app works through a backlog: the rate is its throughput
and the latency mostly queueing. For latency, pace below that rate (``--e2e-only
--e2e-rate 2000``).

On readings of a simulated fleet (``--meters`` × ``--intervals``, half-hourly, no faults):

(a) parse: ``decode_message`` of the batch messages the injector publishes;
(b) validate: ``Validator.process`` (prod preset) over the decoded readings, timers too;
(c) sink limit: the same rows into the real Cassandra with the same driver, prepared
    INSERTs through ``execute_concurrent`` (:class:`ReadingStore`), into
    ``readings_by_meter_day``; and, as the app writes them, into both reading tables;
(c'') the app's own sink: :class:`CassandraSink` writing the validated readings as
    processed batches (rows grouped into UNLOGGED batches, both reading tables, and
    one ``meter_totals_by_day`` row per meter of each batch, as the app writes them);
(d) end to end (:func:`end_to_end`, the hook for the whole pipeline): readings published
    to a JetStream stream of this run (``--e2e-rate`` readings/s, 0: flat out), one
    replica of ``python -m streaming_app run`` (prod preset) validating and storing
    them; the rate runs from the first publish to the last ack, every reading is then
    counted in Cassandra, and latency is given twice: JetStream's publish timestamp to
    the row's ``ingested_at`` (stamped when the batch was processed, before the write)
    and to the ack (sinks written and state saved; sampled every 0.2 s).

(a), (b) and (c'') are best of ``--repeats``; (c) writes fresh meter ids each repeat.
Rows go to ``--keyspace`` (created with the platform's schema), never the platform's
own; the run's stream, consumers and key-value buckets are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import IO

import nats
from cassandra.cluster import Session
from cassandra.concurrent import execute_concurrent_with_args
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from bench.sink_limit import ReadingStore, StoredReading
from inject.fleet import Fleet, FleetConfig
from inject.loadtest.jetstream import OutgoingMessage, plan_messages
from smart_meter.codec import decode_message
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from smart_meter.streams import readings_stream_config
from smart_meter.subjects import READINGS_PREFIX, ReadingsDestination, partition_of
from streaming_app.processed import CheckedReading, ProcessedBatch
from streaming_app.rules import Validator, Verdict
from streaming_app.sinks.cassandra_sink import CassandraSink
from streaming_app.validation import prod_settings

START = datetime(2024, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
APP_MAIN = ROOT / "streaming_app" / "__main__.py"
FETCH_BATCH = 256  # the app's default fetch (and so processed batch) size
POLL_S = 0.2
_BY_TRANSFORMER = """
INSERT INTO readings_by_transformer_day (
    transformer_id, day, meter_id, ts, seq, import_wh, voltage_v, current_a, temperature_c,
    line_id, usage_point_id, quality, failed_rules, lateness, ingested_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class Rate:
    """``count`` readings in ``seconds``."""

    label: str
    count: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds

    def line(self) -> str:
        figures = f"{self.per_s:>10,.0f} readings/s  ({self.count:,} in {self.seconds:.2f} s)"
        return f"  {self.label:<52} {figures}"


def fleet_readings(meters: int, intervals: int, prefix: str) -> list[Reading]:
    """Every meter's reading of each interval, meter ids prefixed (unique per run)."""
    fleet = Fleet(FleetConfig(meters=meters, interval_s=1800), START)
    readings = [r for _, interval in fleet.run(intervals) for r in interval]
    return with_prefix(readings, prefix) if prefix else readings


def with_prefix(readings: Sequence[Reading], prefix: str) -> list[Reading]:
    return [r.model_copy(update={"meter_id": f"{prefix}{r.meter_id}"}) for r in readings]


def best_of(label: str, count: int, work: Callable[[], object], repeats: int) -> Rate:
    """The fastest of ``repeats`` runs of ``work``."""
    seconds = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        seconds = min(seconds, time.perf_counter() - began)
    return Rate(label, count, seconds)


# ---------------------------------------------------------------- (a) parse, (b) validate


def parse_rate(payloads: Sequence[bytes], count: int, repeats: int) -> Rate:
    work = lambda: [decode_message(p) for p in payloads]  # noqa: E731
    return best_of("(a) parse: decode_message of batch messages", count, work, repeats)


def validate_all(
    readings: Sequence[Reading], meters: int, validator: Validator | None = None
) -> list[Verdict]:
    """Every reading through one validator, interval by interval, timers after each."""
    validator = prod_settings().validator() if validator is None else validator
    verdicts = []
    for start in range(0, len(readings), meters):
        verdicts += [validator.process(r) for r in readings[start : start + meters]]
        validator.expire()
    return verdicts


def validate_rate(readings: Sequence[Reading], meters: int, repeats: int) -> Rate:
    work = lambda: validate_all(readings, meters)  # noqa: E731
    return best_of("(b) validate: Validator.process, prod preset", len(readings), work, repeats)


# ---------------------------------------------------------------- (c) the sink's limit


def store_rate(session: Session, readings: Sequence[Reading], repeats: int, run: str) -> Rate:
    """ReadingStore.write: one prepared INSERT per reading into readings_by_meter_day."""
    store = ReadingStore(session)
    seconds = float("inf")
    for repeat in range(repeats):
        rows = [StoredReading(r) for r in with_prefix(readings, f"S{run}r{repeat}-")]
        began = time.perf_counter()
        store.write(rows, datetime.now(UTC))
        seconds = min(seconds, time.perf_counter() - began)
    return Rate("(c) sink limit: ReadingStore, 1 row/reading", len(readings), seconds)


def both_tables_rate(session: Session, readings: Sequence[Reading], repeats: int, run: str) -> Rate:
    """Both reading tables, as the app fills them: 2 prepared INSERTs per reading."""
    store = ReadingStore(session)
    by_transformer = session.prepare(_BY_TRANSFORMER)
    seconds = float("inf")
    for repeat in range(repeats):
        ours, now = with_prefix(readings, f"T{run}r{repeat}-"), datetime.now(UTC)
        transformer_rows = [_transformer_values(r, now) for r in ours]
        began = time.perf_counter()
        store.write([StoredReading(r) for r in ours], now)
        execute_concurrent_with_args(
            session, by_transformer, transformer_rows, concurrency=64, raise_on_first_error=True
        )
        seconds = min(seconds, time.perf_counter() - began)
    return Rate("(c') same driver, both reading tables, 2 rows/reading", len(readings), seconds)


def _transformer_values(reading: Reading, ingested_at: datetime) -> tuple[object, ...]:
    grid = reading.grid
    return (
        grid.transformer_id if grid else "none",
        reading.ts.astimezone(UTC).date(),
        reading.meter_id,
        reading.ts,
        reading.seq,
        reading.import_wh,
        list(reading.voltage_v or ()) or None,
        list(reading.current_a or ()) or None,
        reading.temperature_c,
        grid.line_id if grid else None,
        grid.usage_point_id if grid else None,
        "A",
        None,
        "ON_TIME",
        ingested_at,
    )


def processed_batches(
    readings: Sequence[Reading], verdicts: Sequence[Verdict], partitions: int, validator: Validator
) -> list[ProcessedBatch]:
    """The readings as the app's workers hand them to the sinks: per partition, 256 a batch,
    with the running totals of each meter in the batch (as the validator ended them)."""
    now_ms = time.time_ns() // 1_000_000
    by_partition: dict[int, list[CheckedReading]] = {}
    for reading, verdict in zip(readings, verdicts, strict=True):
        checked = CheckedReading(reading, verdict, now_ms)
        by_partition.setdefault(partition_of(reading.meter_id, partitions), []).append(checked)
    batches = []
    for partition, group in by_partition.items():
        for i in range(0, len(group), FETCH_BATCH):
            chunk = group[i : i + FETCH_BATCH]
            totals = validator.running(sorted({c.reading.meter_id for c in chunk}))
            batches.append(ProcessedBatch(partition, now_ms, tuple(chunk), totals=tuple(totals)))
    return batches


def app_sink_rate(
    session: Session, readings: Sequence[Reading], meters: int, repeats: int, run: str
) -> Rate:
    """The app's CassandraSink (reading tables and totals), batch by batch."""
    sink = CassandraSink(session)
    seconds = float("inf")
    for repeat in range(repeats):
        ours = with_prefix(readings, f"A{run}r{repeat}-")
        validator = prod_settings().validator()
        verdicts = validate_all(ours, meters, validator)
        batches = processed_batches(ours, verdicts, 16, validator)
        began = time.perf_counter()
        for batch in batches:
            sink.write_blocking(batch)
        seconds = min(seconds, time.perf_counter() - began)
    return Rate("(c'') the app's CassandraSink, readings and totals", len(readings), seconds)


# ---------------------------------------------------------------- (d) end to end


@dataclass(frozen=True)
class E2ENames:
    """Everything (d) creates on the servers, unique to one run."""

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

    def app_env(self, keyspace: str) -> dict[str, str]:
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
        }


@dataclass
class Progress:
    """Samples of every partition consumer's ack floor (stream sequence), in wall time."""

    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)

    def acked_at(self, partition: int, seq: int) -> float | None:
        return next((t for t, floors in self.samples if floors.get(partition, 0) >= seq), None)


@dataclass(frozen=True)
class E2EResult:
    published: int
    stored: int
    seconds: float
    to_ingested_ms: list[float]
    to_acked_ms: list[float]
    app_log: Path

    def lines(self) -> list[str]:
        return [
            f"  (d) published {self.published:,} readings, {self.stored:,} rows stored, "
            f"first publish to last ack {self.seconds:.2f} s (app log: {self.app_log})",
            f"      latency publish -> ingested_at {_p50_p99(self.to_ingested_ms)}",
            f"      latency publish -> acked       {_p50_p99(self.to_acked_ms)}",
        ]


def _p50_p99(values: Sequence[float]) -> str:
    return f"p50 {_pct(values, 50):,.0f} ms, p99 {_pct(values, 99):,.0f} ms"


def _pct(values: Sequence[float], percent: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def start_app(names: E2ENames, keyspace: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """One replica of the streaming app, as an operator starts it."""
    command = [sys.executable, "-m", "streaming_app", "run", "--preset", "prod"]
    command += ["--replica-id", f"bench-{names.run}", "--log-level", "WARNING"]
    print(f"  (d) app: {shlex.join(command)} (env SMART_METER_APP_STREAM={names.stream} ...)")
    return subprocess.Popen(command, cwd=ROOT, env=names.app_env(keyspace), stdout=log, stderr=log)


async def wait_for_consumers(
    js: JetStreamContext, names: E2ENames, partitions: int, app: subprocess.Popen[bytes]
) -> None:
    """Until the app has a durable consumer on every partition (it claimed them all)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise RuntimeError(f"the app exited with {app.returncode} before consuming")
        floors = await ack_floors(js, names, partitions)
        if len(floors) == partitions:
            return
        await asyncio.sleep(POLL_S)
    raise RuntimeError("the app did not open its consumers within 120 s")


async def ack_floors(js: JetStreamContext, names: E2ENames, partitions: int) -> dict[int, int]:
    floors = {}
    for partition in range(partitions):
        with contextlib.suppress(NotFoundError):
            info = await js.consumer_info(names.stream, f"{names.durable_prefix}-p{partition}")
            floors[partition] = info.ack_floor.stream_seq if info.ack_floor else 0
    return floors


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


async def follow(
    js: JetStreamContext, names: E2ENames, partitions: int, done: Callable[[dict[int, int]], bool]
) -> Progress:
    """Sample the ack floors until ``done`` says every message is acked."""
    progress = Progress()
    while True:
        floors = await ack_floors(js, names, partitions)
        progress.samples.append((time.time(), floors))
        if done(floors):
            return progress
        await asyncio.sleep(POLL_S)


async def published_ms(js: JetStreamContext, stream: str, seqs: Sequence[int]) -> list[int]:
    """JetStream's own timestamp of each stored message."""
    stamps = []
    for seq in seqs:
        stored = await js.get_msg(stream, seq)
        stamps.append(int(datetime.fromisoformat(str(stored.time)).timestamp() * 1000))
    return stamps


def stored_rows(session: Session, readings: Sequence[Reading]) -> dict[tuple[str, int], int]:
    """(meter, ts ms) -> ingested_at ms of every stored row of these readings' meters."""
    query = session.prepare(
        "SELECT meter_id, ts, ingested_at FROM readings_by_meter_day WHERE meter_id = ? AND day = ?"
    )
    keys = sorted({(r.meter_id, r.ts.astimezone(UTC).date()) for r in readings})
    results = execute_concurrent_with_args(session, query, keys, concurrency=64)
    rows = {}
    for result in results:
        for row in result.result_or_exc:
            rows[row.meter_id, _ms(row.ts)] = _ms(row.ingested_at)
    return rows


def _ms(when: datetime) -> int:
    return int(when.replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class E2EOptions:
    readings: int
    meters: int
    batch_size: int
    rate_per_s: float
    timeout_s: float
    keyspace: str
    run: str


def e2e_messages(
    options: E2EOptions, names: E2ENames, partitions: int
) -> tuple[list[Reading], list[OutgoingMessage]]:
    intervals = -(-options.readings // options.meters)
    readings = fleet_readings(options.meters, intervals, f"E{options.run}-")[: options.readings]
    planned = plan_messages(readings, partitions, options.batch_size)
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


async def end_to_end(options: E2EOptions, connections: ConnectionSettings) -> E2EResult:
    """(d): injector -> NATS -> ``python -m streaming_app run`` -> Cassandra (+ InfluxDB)."""
    names, partitions = E2ENames(options.run), connections.partitions
    readings, messages = e2e_messages(options, names, partitions)
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream(publish_async_max_pending=256)
    destination = ReadingsDestination(names.stream, names.subject_prefix)
    await js.add_stream(readings_stream_config(destination=destination))  # reserves 1 GiB
    log_path = Path(tempfile.gettempdir()) / f"pipeline_e2e_{options.run}.log"
    try:
        with log_path.open("wb") as log:
            app = start_app(names, options.keyspace, log)
            try:
                await wait_for_consumers(js, names, partitions, app)
                return await _timed_run(
                    js, names, options, readings, messages, connections, log_path
                )
            finally:
                stop_app(app)
    finally:
        await cleanup(js, names)
        await nc.close()


@dataclass(frozen=True)
class Published:
    """The run's messages as JetStream stored them: partition, sequence, timestamp."""

    messages: Sequence[OutgoingMessage]
    partitions: list[int]
    seqs: list[int]
    stamps_ms: list[int]


async def _timed_run(
    js: JetStreamContext,
    names: E2ENames,
    options: E2EOptions,
    readings: Sequence[Reading],
    messages: Sequence[OutgoingMessage],
    connections: ConnectionSettings,
    log_path: Path,
) -> E2EResult:
    partitions = [int(m.subject.rsplit(".", 1)[1]) for m in messages]
    highest: dict[int, int] = {}

    def all_acked(floors: dict[int, int]) -> bool:
        return bool(highest) and all(floors.get(p, 0) >= seq for p, seq in highest.items())

    began = time.time()
    following = asyncio.create_task(follow(js, names, connections.partitions, all_acked))
    seqs = await publish(js, messages, options.rate_per_s)
    for partition, seq in zip(partitions, seqs, strict=True):
        highest[partition] = max(highest.get(partition, 0), seq)
    progress = await asyncio.wait_for(following, options.timeout_s)
    seconds = progress.samples[-1][0] - began
    published = Published(messages, partitions, seqs, await published_ms(js, names.stream, seqs))
    keyspace = {"cassandra_keyspace": options.keyspace}
    session = open_session(connections.model_copy(update=keyspace))
    try:
        rows = stored_rows(session, readings)
    finally:
        session.cluster.shutdown()
    to_ingested, to_acked = latencies(published, progress, rows)
    stored = len(rows.keys() & {r.key for r in readings})
    return E2EResult(len(readings), stored, seconds, to_ingested, to_acked, log_path)


def latencies(
    published: Published, progress: Progress, rows: dict[tuple[str, int], int]
) -> tuple[list[float], list[float]]:
    """Per reading: publish timestamp to ``ingested_at``, and to the ack of its message."""
    to_ingested: list[float] = []
    to_acked: list[float] = []
    for index, message in enumerate(published.messages):
        stamp = published.stamps_ms[index]
        acked = progress.acked_at(published.partitions[index], published.seqs[index])
        for reading in decode_message(message.payload).readings:
            ingested = rows.get(reading.key)
            if ingested is not None:
                to_ingested.append(float(ingested - stamp))
            if acked is not None:
                to_acked.append(acked * 1000 - stamp)
    return to_ingested, to_acked


def stop_app(app: subprocess.Popen[bytes]) -> None:
    """SIGTERM the replica this bench started (graceful: it finishes its batch), then wait."""
    if app.poll() is None:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


async def cleanup(js: JetStreamContext, names: E2ENames) -> None:
    """Delete this run's stream (and its consumers) and key-value buckets."""
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(names.stream)
    for bucket in names.buckets:
        with contextlib.suppress(NotFoundError):
            await js.delete_key_value(bucket)


def run_end_to_end(
    args: argparse.Namespace, connections: ConnectionSettings, run: str
) -> Rate | None:
    """(d), when ``python -m streaming_app run`` exists; otherwise say so and skip it."""
    if not APP_MAIN.exists():
        print("  (d) skipped: streaming_app/__main__.py (python -m streaming_app run) is missing")
        return None
    options = E2EOptions(
        readings=args.e2e_readings,
        meters=args.meters,
        batch_size=args.batch_size,
        rate_per_s=args.e2e_rate,
        timeout_s=args.e2e_timeout_s,
        keyspace=args.keyspace,
        run=run,
    )
    result = asyncio.run(end_to_end(options, connections))
    for line in result.lines():
        print(line)
    if result.stored != result.published:
        print(f"  (d) WARNING: {result.published - result.stored:,} readings not stored")
    return Rate("(d) end to end, first publish to last ack", result.stored, result.seconds)


# ---------------------------------------------------------------- report


def print_machine() -> None:
    print(f"command: {shlex.join(sys.orig_argv)}")
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, cassandra-driver {version('cassandra-driver')}, "
        f"nats-py {version('nats-py')}"
    )
    print("servers: NATS, Cassandra and InfluxDB run on this machine and share its CPUs")
    print_load()


def print_load() -> None:
    """Load average: other work on the machine skews every figure below."""
    one, five, fifteen = os.getloadavg()
    print(f"load average: {one:.2f} {five:.2f} {fifteen:.2f}")


def print_ratios(rates: dict[str, Rate]) -> None:
    pairs = [
        ("validate", "parse"),
        ("e2e", "sink"),
        ("e2e", "sink2"),
        ("e2e", "app_sink"),
        ("e2e", "validate"),
    ]
    shown = [(top, bottom) for top, bottom in pairs if top in rates and bottom in rates]
    if shown:
        print("ratios:")
    for top, bottom in shown:
        print(f"  {top} / {bottom}: {rates[top].per_s / rates[bottom].per_s:.2f}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--intervals", type=int, default=100, help="half-hours for (a)-(c)")
    parser.add_argument("--batch-size", type=int, default=100, help="readings per message")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keyspace", default="smart_meter_bench")
    parser.add_argument("--e2e-readings", type=int, default=100_000)
    parser.add_argument("--e2e-rate", type=float, default=0.0, help="readings/s; 0: flat out")
    parser.add_argument("--e2e-timeout-s", type=float, default=900.0)
    parser.add_argument("--skip-e2e", action="store_true", help="only (a)-(c)")
    parser.add_argument("--e2e-only", action="store_true", help="only (d), e.g. paced for latency")
    return parser.parse_args()


def parts_rates(
    args: argparse.Namespace,
    readings: Sequence[Reading],
    payloads: Sequence[bytes],
    connections: ConnectionSettings,
    run: str,
) -> dict[str, Rate]:
    """(a), (b) and the sink's limits (c), each printed as it is measured."""
    rates = {
        "parse": parse_rate(payloads, len(readings), args.repeats),
        "validate": validate_rate(readings, args.meters, args.repeats),
    }
    session = open_session(connections)
    try:
        writes = max(1, args.repeats - 1)
        rates["sink"] = store_rate(session, readings, writes, run)
        rates["sink2"] = both_tables_rate(session, readings, writes, run)
        rates["app_sink"] = app_sink_rate(session, readings, args.meters, writes, run)
    finally:
        session.cluster.shutdown()
    for rate in rates.values():
        print(rate.line())
    return rates


def main() -> None:
    args = arguments()
    print_machine()
    run = secrets.token_hex(3)
    readings = fleet_readings(args.meters, args.intervals, "")
    connections = ConnectionSettings(cassandra_keyspace=args.keyspace)
    payloads = [m.payload for m in plan_messages(readings, connections.partitions, args.batch_size)]
    print(
        f"{len(readings):,} readings ({args.meters} meters x {args.intervals} half-hours), "
        f"{len(payloads):,} messages of up to {args.batch_size}; keyspace {args.keyspace}"
    )
    rates = {} if args.e2e_only else parts_rates(args, readings, payloads, connections, run)
    if not args.skip_e2e:
        e2e = run_end_to_end(args, connections, run)
        if e2e is not None:
            rates["e2e"] = e2e
            print(e2e.line())
    print_ratios(rates)
    print_load()


if __name__ == "__main__":
    main()
