"""How fast one replica drains a backlog, on a quiet machine and under CPU pressure.

    python -m bench.pressure_bench [--meters 500] [--intervals 60] [--busy-loops 4]

The scenario of ``tests/integration/test_streaming_app_pressure.py``, timed: a fleet
with the injector's default fault mix (one-minute readings, 10 per message) is
published to a stream of its own, then one replica (``python -m streaming_app run``,
demo preset, the tests' 3-s leases) is started and the backlog is followed until every
message is acked. That is done twice: with nothing else running, and with
``--busy-loops`` processes spinning at normal priority. For each run: the time to the
first ack (start-up: sinks, claims, consumers), the drain rate from the first ack to the
last, the CPU time the app process got (throughput should follow it), readings stored, and
how often a lease expired unclaimed (taken again) or a partition was given up. Uses the
local stack (``start_services.py up``) and deletes what it created.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import nats
import psutil
from nats.js import JetStreamContext

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from stack.settings import StackSettings, connections_for
from tests.integration.streaming_app_readback import drop_keyspace, snapshot
from tests.integration.streaming_app_support import (
    AppNames,
    Names,
    busy_loops,
    create_stream,
    delete_deployment,
    fleet_input,
    publish,
    remaining,
)

POLL_S = 0.25
BUSY_LIMIT_S = 1800.0
STALL_S = 300.0


@dataclass(frozen=True)
class Drain:
    """One run: readings and messages drained, and when."""

    busy_loops: int
    readings: int
    messages: int
    startup_s: float
    drain_s: float
    cpu_s: float  # the app process's user + system CPU time, start-up included
    stored: int
    retaken: int
    released: int

    def line(self) -> str:
        rate = self.readings / self.drain_s
        return (
            f"  {self.busy_loops} busy loops: {rate:8,.0f} readings/s "
            f"({self.readings:,} readings, {self.messages:,} messages in {self.drain_s:.1f} s "
            f"from the first ack; start-up {self.startup_s:.1f} s); app CPU {self.cpu_s:.1f} s "
            f"({self.readings / self.cpu_s:,.0f} readings per CPU-second); {self.stored:,} stored; "
            f"leases taken again {self.retaken}, partitions given up {self.released}"
        )


async def follow(js: JetStreamContext, app: AppNames, process: AppProcess) -> tuple[float, float]:
    """Seconds from now to the first ack, and from it to the last (every message acked)."""
    began = time.monotonic()
    total = await remaining(js, app)
    first = last = None
    fewest, since = total, began
    while last is None:
        if not process.alive():
            raise RuntimeError(f"the app exited: {process.last_lines()}")
        left, now = await remaining(js, app), time.monotonic()
        if left < total and first is None:
            first = now
        if left == 0:
            last = now
        if left < fewest:
            fewest, since = left, now
        elif now - since > STALL_S:
            raise RuntimeError(f"no progress for {STALL_S} s ({left} left)")
        await asyncio.sleep(POLL_S)
    assert first is not None
    return first - began, last - first


async def drain(connections: ConnectionSettings, args: argparse.Namespace, busy: int) -> Drain:
    names, data = Names(), fleet_input(args.meters, args.intervals)
    app = names.app("bench")
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    try:
        await create_stream(js, names)
        await publish(js, names, data.messages)
        with TemporaryDirectory() as folder, busy_loops(busy, BUSY_LIMIT_S):
            process = AppProcess(app.env(connections), Path(folder) / "app.log")
            try:
                startup_s, drain_s = await follow(js, app, process)
                cpu = psutil.Process(process.pid).cpu_times()
            finally:
                process.terminate()
            log = process.log_text()
        found = await asyncio.to_thread(snapshot, connections, app.keyspace)
    finally:
        await delete_deployment(js, app)
        await js.delete_stream(names.stream)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)
    return Drain(
        busy,
        len(data.keys),
        len(data.messages),
        startup_s,
        drain_s,
        cpu.user + cpu.system,
        len(found.reading_keys_ms() | found.late_keys_ms()),
        log.count("expired unclaimed"),
        log.count(": released"),
    )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=500)
    parser.add_argument("--intervals", type=int, default=60, help="one-minute intervals")
    parser.add_argument("--busy-loops", type=int, default=4)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    connections = connections_for(StackSettings())
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, servers on this machine too")
    for busy in (0, args.busy_loops):
        result = asyncio.run(drain(connections, args, busy))
        print(result.line(), flush=True)
        print(f"  load average after it: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
