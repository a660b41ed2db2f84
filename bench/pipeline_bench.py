"""The pipeline's throughput and what each reading costs, in one run.

    python -m bench.pipeline_bench [--meters 500] [--intervals 48] [--repeats 3]
        [--e2e-readings 24000] [--per-message 100[,1]] [--apps 1[,2,4]]
        [--modes live,catch-up] [--live-rate R] [--app-client driver|acsylla]
        [--keyspace smart_meter_bench] [--skip-parts] [--skip-e2e] [--out FILE]

On a simulated fleet (``--meters`` × half-hourly intervals, no faults), each repeat
measures, interleaved so that the machine's load falls on every figure alike:

- parts (best of the repeats, CPU only): ``decode_message`` of the batch messages the
  injector publishes, and ``Validator.process`` (prod preset) over the readings;
- the **sink limit**: the reading rows the app writes (both reading tables, its columns),
  raw, as prepared single-row INSERTs with ``--sink-in-flight`` requests in flight, by
  ``acsylla`` (the best client from Python: the sink limit) and by ``cassandra-driver``
  (the app's client today), into the same Cassandra and keyspace, fresh meter ids each
  time, after a warm-up round of a quarter of the rows that is not kept; client and
  Cassandra server CPU per row (:mod:`bench.pipeline_sink`);
- **end to end** for every ``--per-message`` × ``--apps`` × ``--modes``: readings through
  NATS JetStream, ``--apps`` processes of ``python -m streaming_app run`` splitting the
  partitions and Cassandra, ``live`` (paced at ``--live-rate``; default: this repeat's
  sink limit) and ``catch-up`` (a backlog published before the apps start), with the
  apps' CPU µs per reading, the Cassandra and NATS servers' CPU µs per reading, the apps'
  memory, the load average, every reading counted back (:mod:`bench.pipeline_e2e`).

Then the figures as min/median/max of the repeats, the ratio end to end / sink limit, and
the cores that 20,000 and 200,000 readings/s need (``--capacity-rates``), on the
terminal and in a JSON file under ``bench/results/``. ``--app-client`` (default acsylla,
the app's own default) is passed to the apps as ``SMART_METER_APP_CASSANDRA_CLIENT``.
Rows go to ``--keyspace`` (the platform's schema), never the platform's own; each run's
stream, consumers and buckets are deleted. Server CPU is the servers' whole CPU in the
window: other work on a shared machine adds to it (the figures are then upper bounds).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import secrets
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import orjson
from rich.console import Console
from rich.table import Table

from bench.pipeline_e2e import (
    MODES,
    E2EOptions,
    E2EResult,
    Mode,
    end_to_end,
    fleet_readings,
    with_prefix,
)
from bench.pipeline_report import (
    capacity_document,
    capacity_needs,
    capacity_table,
    costs,
    e2e_summary,
    e2e_table,
    sink_limits,
    sink_summary,
    sink_table,
)
from bench.pipeline_sink import SinkOptions, SinkRun, acsylla_run, driver_run
from bench.pipeline_stats import Spread
from bench.proc_cpu import Servers, machine
from inject.loadtest.jetstream import plan_messages
from smart_meter.codec import decode_message
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from streaming_app.validation import prod_settings

RESULTS = Path(__file__).resolve().parent / "results"
CLIENTS = ("driver", "acsylla")
RETRY_PAUSE_S = 10.0
T = TypeVar("T")


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    """The fastest of ``repeats`` runs of ``work``."""
    seconds = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        seconds = min(seconds, time.perf_counter() - began)
    return seconds


def validate_all(readings: Sequence[Reading], meters: int) -> None:
    """Every reading through one validator, interval by interval, timers after each."""
    validator = prod_settings().validator()
    for start in range(0, len(readings), meters):
        for reading in readings[start : start + meters]:
            validator.process(reading)
        validator.expire()


def parts(args: argparse.Namespace, readings: Sequence[Reading], partitions: int) -> dict[str, Any]:
    payloads = [m.payload for m in plan_messages(readings, partitions, 100)]
    parse_s = best_seconds(lambda: [decode_message(p) for p in payloads], args.repeats)
    validate_s = best_seconds(lambda: validate_all(readings, args.meters), args.repeats)
    count = len(readings)
    return {
        "parse_readings_per_s": round(count / parse_s),
        "validate_readings_per_s": round(count / validate_s),
        "parse_cpu_us_per_reading": round(parse_s * 1e6 / count, 1),
        "validate_cpu_us_per_reading": round(validate_s * 1e6 / count, 1),
    }


def parts_table(figures: dict[str, Any]) -> Table:
    table = Table(title="Parts, in this process (best of the repeats)", title_justify="left")
    for column in ("step", "readings/s", "µs/reading"):
        table.add_column(column, justify="left" if column == "step" else "right")
    table.add_row(
        "decode_message, batches of 100",
        f"{figures['parse_readings_per_s']:,}",
        f"{figures['parse_cpu_us_per_reading']:,}",
    )
    table.add_row(
        "Validator.process, prod preset",
        f"{figures['validate_readings_per_s']:,}",
        f"{figures['validate_cpu_us_per_reading']:,}",
    )
    return table


def numbers(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1,2,4: {text!r}")
    return values


def modes(text: str) -> list[Mode]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}: {text!r}")
    return [m for m in MODES if m in chosen]


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument("--intervals", type=int, default=48, help="half-hours: parts, sink")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keyspace", default="smart_meter_bench")
    parser.add_argument("--sink-in-flight", type=int, default=256, help="acsylla requests")
    parser.add_argument("--e2e-readings", type=int, default=24_000)
    parser.add_argument("--per-message", type=numbers, default=[100], help="e.g. 1,100")
    parser.add_argument("--apps", type=numbers, default=[1], help="app processes, e.g. 1,2,4")
    parser.add_argument("--modes", type=modes, default=list(MODES), help="live,catch-up")
    parser.add_argument(
        "--live-rate",
        type=float,
        default=None,
        help="live pace, readings/s (default: the repeat's sink limit; 0: flat out)",
    )
    parser.add_argument("--app-client", choices=CLIENTS, default="acsylla", help="the app's")
    parser.add_argument("--e2e-timeout-s", type=float, help="per run (default from the size)")
    parser.add_argument("--capacity-rates", type=numbers, default=[20_000, 200_000])
    parser.add_argument("--utilisation", type=float, default=0.7, help="of each core, capacity")
    parser.add_argument("--skip-parts", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true", help="parts and sink limit only")
    parser.add_argument("--out", type=Path, help="JSON (default bench/results/pipeline_*.json)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.e2e_timeout_s is None:
        args.e2e_timeout_s = 300 + args.e2e_readings / 100
    return args


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("cassandra-driver", "acsylla", "nats-py"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


def find_servers(connections: ConnectionSettings) -> Servers:
    nats_port = urlparse(connections.nats_servers[0]).port or 4222
    return Servers.find(connections.cassandra_port, nats_port)


def twice(what: str, work: Callable[[], T], console: Console) -> T:
    """``work``, tried once more if it fails (the servers are shared: another engineer's
    test may restart one); the second failure is raised."""
    try:
        return work()
    except Exception as error:  # noqa: BLE001 - any failure of a run: said, then retried
        console.print(f"  {what} failed ({type(error).__name__}: {str(error)[:160]}); again")
        time.sleep(RETRY_PAUSE_S)
        return work()


def sink_round(
    connections: ConnectionSettings,
    in_flight: int,
    readings: Sequence[Reading],
    run: str,
    console: Console,
) -> list[SinkRun]:
    """Both clients once, each on fresh meter ids (a retry writes fresh ones again)."""

    def one(client: str, write: Callable[..., SinkRun]) -> list[SinkRun]:
        def attempt() -> SinkRun:
            options = SinkOptions(connections, find_servers(connections), in_flight)
            prefix = f"S{client}{run}{secrets.token_hex(2)}-"
            return write(options, with_prefix(readings, prefix), time.time_ns() // 1_000_000)

        try:
            return [twice(f"sink {client}", attempt, console)]
        except Exception as error:  # noqa: BLE001 - the run goes on without this figure
            console.print(f"  sink {client} failed twice ({type(error).__name__}): no figure")
            return []

    return one("a", acsylla_run) + one("d", driver_run)


def e2e_round(
    args: argparse.Namespace, connections: ConnectionSettings, pace: float, console: Console
) -> list[E2EResult]:
    """Every configuration once."""
    results = []
    for per_message in args.per_message:
        for apps in args.apps:
            for mode in args.modes:
                options = E2EOptions(
                    readings=args.e2e_readings,
                    meters=args.meters,
                    per_message=per_message,
                    apps=apps,
                    mode=mode,
                    rate_per_s=pace,
                    client=args.app_client,
                    timeout_s=args.e2e_timeout_s,
                    keyspace=args.keyspace,
                    run=secrets.token_hex(3),
                )

                def attempt(options: E2EOptions = options) -> E2EResult:
                    fresh = replace(options, run=secrets.token_hex(3))
                    servers = find_servers(connections)
                    return asyncio.run(end_to_end(fresh, connections, servers))

                result = twice(f"e2e {mode} {per_message}/msg {apps} apps", attempt, console)
                console.print(_e2e_line(result))
                results.append(result)
    return results


def _e2e_line(r: E2EResult) -> str:
    lost = r.published - r.stored
    return (
        f"  e2e {r.mode:<8} per-message {r.per_message:<3} apps {r.apps}: "
        f"{r.readings_per_s:,.0f} readings/s ({r.counted:,} in {r.seconds:.1f} s), "
        f"app {r.app_us:,.0f} µs/reading, Cassandra {r.cassandra_us:,.0f}, NATS {r.nats_us:,.0f}, "
        f"RSS {r.rss_start / 2**20:,.0f}->{r.rss_end / 2**20:,.0f} MiB, load {r.load:.1f}"
        + (f", {lost:,} NOT STORED" if lost else "")
    )


def _sink_line(s: SinkRun) -> str:
    return (
        f"  sink {s.client:<16} {s.readings_per_s:,.0f} readings/s ({s.rows_per_s:,.0f} rows/s), "
        f"client {s.client_us_per_row:,.0f} µs/row, Cassandra {s.cassandra_us_per_row:,.0f} "
        f"µs/row, load {s.load:.1f}"
    )


def _stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C: the apps it started are stopped, its streams
    deleted (the ``finally`` blocks run)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    _stop_on_sigterm()
    console = Console(width=200)
    started = datetime.now(UTC)
    host = machine()
    console.print(f"command: {shlex.join(sys.orig_argv)}")
    console.print(f"date: {started.isoformat(timespec='seconds')}; machine: {host}; {versions()}")
    connections = ConnectionSettings(cassandra_keyspace=args.keyspace)
    open_session(connections).cluster.shutdown()  # the keyspace and schema exist
    servers = find_servers(connections)
    console.print(f"server processes (CPU attributed): {servers.pids() or 'none found'}")
    console.print("(looked up again for every run; a server restarted within a run: no figure)")
    readings = fleet_readings(args.meters, args.intervals, "")
    run = secrets.token_hex(3)
    figures = {} if args.skip_parts else parts(args, readings, connections.partitions)
    sinks: list[SinkRun] = []
    e2e: list[E2EResult] = []
    warm_up = readings[: len(readings) // 4]
    sink_round(connections, args.sink_in_flight, warm_up, f"w{run}", console)  # not kept
    for repeat in range(args.repeats):
        console.print(f"repeat {repeat + 1} of {args.repeats}")
        round_sinks = sink_round(connections, args.sink_in_flight, readings, run, console)
        for sink in round_sinks:
            console.print(_sink_line(sink))
        sinks += round_sinks
        limits = sink_limits(round_sinks) or sink_limits(sinks) or [0.0]
        pace = args.live_rate if args.live_rate is not None else limits[-1]
        if not args.skip_e2e:
            e2e += e2e_round(args, connections, pace, console)
    ended = datetime.now(UTC)
    shape = max(args.per_message)  # capacity: the batched intake (a head-end's messages)
    cost = costs([r for r in e2e if r.per_message == shape], sinks)
    needs = capacity_needs(cost, args.capacity_rates, args.utilisation)
    if figures:
        console.print(parts_table(figures))
    console.print(sink_table(sinks))
    if e2e:
        console.print(e2e_table(e2e, sinks))
        console.print(capacity_table(needs, shape))
    console.print(f"load average at the end: {machine()['load_average']}")
    document = {
        "command": shlex.join(sys.orig_argv),
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "machine": {
            **host,
            "platform": platform.platform(),
            "load_average_end": machine()["load_average"],
        },
        "servers": "NATS, Cassandra and InfluxDB on the same machine, sharing its cores",
        "versions": versions(),
        "options": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "parts": figures,
        "sink_limit": {
            "rows_per_reading": 2,
            "in_flight": args.sink_in_flight,
            "summary": sink_summary(sinks),
            "runs": [s.as_dict() for s in sinks],
        },
        "end_to_end": {"summary": e2e_summary(e2e, sinks), "runs": [r.as_dict() for r in e2e]},
        "sink_limit_acsylla_readings_per_s": Spread.of(sink_limits(sinks)).as_dict(),
        "capacity": capacity_document(cost, needs, shape) if e2e else None,
    }
    out = args.out or RESULTS / f"pipeline_bench_{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    console.print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
