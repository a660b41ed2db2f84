"""The streaming app under CPU starvation slows down, it does not stop.

A backlog (a fleet with the injector's default fault mix) is published first; then four
processes spin at normal priority on the machine's cores, and one replica (``python -m
streaming_app run``) must drain the backlog to the end while they spin, storing every
reading once with the flags and running totals a validator gives in stream order. Its
leases are short (1.5 s, renewed every 0.5 s), so its renewals do come late: before
leases were judged by the replica's own clock, such a replica gave its partitions up
and took them back over and over (1,169 times in 15 minutes here, 834 of 3,644 messages
done). It must never give one up: nobody else wants it. The wait fails only when the
backlog stops going down for a while, never on how long the whole drain takes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from tests.integration.streaming_app_readback import (
    drop_keyspace,
    expected_flags,
    expected_totals_rows,
    snapshot,
)
from tests.integration.streaming_app_support import (
    Names,
    busy_loops,
    create_stream,
    delete_deployment,
    fleet_input,
    publish,
    remaining,
    wait_for_drain,
)

pytestmark = pytest.mark.integration

METERS, INTERVALS = 500, 60
BUSY_LOOPS = 4
BUSY_LIMIT_S = 900.0  # the spinning processes end by themselves at the latest after this
STALL_S = 120.0  # no message acked for this long: the app stopped
LEASE_TTL_S = 1.5  # renewed every 0.5 s: a starved replica's renewals do come late


async def test_one_replica_drains_a_backlog_under_cpu_pressure_storing_every_reading_once(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    names = Names()
    data = fleet_input(METERS, INTERVALS)
    app = names.app("cpu")
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    process: AppProcess | None = None
    try:
        await create_stream(js, names)
        sent = await publish(js, names, data.messages)
        with busy_loops(BUSY_LOOPS, BUSY_LIMIT_S):
            env = app.env(connections, lease_ttl_s=LEASE_TTL_S)
            process = AppProcess(env, tmp_path / "app.log", "--replica-id", "one")

            async def left() -> int:
                assert process is not None and process.alive(), process and process.last_lines()
                return await remaining(js, app)

            await wait_for_drain(left, STALL_S, "the backlog to drain under CPU pressure")
        assert process.terminate() == 0, process.log_text()[-3000:]
        found = await asyncio.to_thread(snapshot, connections, app.keyspace)
    finally:
        if process is not None and process.alive():
            process.kill()
        await delete_deployment(js, app)
        await js.delete_stream(names.stream)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)

    assert found.reading_keys_ms() | found.late_keys_ms() == data.keys
    assert not found.reading_keys_ms() & found.late_keys_ms()
    assert found.readings == await expected_flags(sent)
    assert found.totals == await expected_totals_rows(sent)
    log = process.log_text()
    assert "Traceback" not in log
    assert "released" not in log, "a partition was given up, though nobody else wanted it"
    assert "lost before" not in log
