"""Cassandra stopped under load: the app backs off, acks nothing, stays small, recovers.

!!! This test STOPS THE SHARED CASSANDRA of the local stack for a while and starts it
!!! again in a ``finally`` block. Other tests running at the same time against the same
!!! stack see Cassandra down meanwhile. It is the only test that does this.

The app (a real process) works through a backlog; Cassandra is stopped; while it is
down, the count of messages not yet acked must not move (nothing acked that is not
stored) and the app's resident memory must stay under a bound and flat (it stops
pulling instead of buffering). After Cassandra is back, every reading is stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from demo.launch import AppProcess
from smart_meter.settings import ConnectionSettings
from stack.manager import LocalStack
from tests.integration.streaming_app_readback import (
    drop_keyspace,
    snapshot,
)
from tests.integration.streaming_app_support import (
    Names,
    create_stream,
    delete_deployment,
    fleet_input,
    publish,
    remaining,
    wait_for,
)

pytestmark = pytest.mark.integration

METERS, INTERVALS = 1000, 60
RSS_LIMIT_BYTES = 600 * 2**20
RSS_GROWTH_LIMIT_BYTES = 64 * 2**20


def retries(process: AppProcess) -> int:
    return process.log_text().count("retrying in")


async def test_cassandra_outage_under_load_loses_nothing_and_memory_stays_bounded(
    connections: ConnectionSettings, stack: LocalStack, tmp_path: Path
) -> None:
    names = Names()
    app = names.app("outage")
    data = fleet_input(METERS, INTERVALS, faults="none")
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    process = None
    try:
        await create_stream(js, names)
        await publish(js, names, data.messages)
        total = len(data.messages)
        process = AppProcess(app.env(connections), tmp_path / "app.log")
        running = process

        async def progressed(below: int) -> bool:
            assert running.alive(), running.log_text()[-3000:]
            return await remaining(js, app) <= below

        await wait_for(lambda: progressed(total * 4 // 5), 120, "a fifth of the backlog")
        rss_samples: list[int] = []
        try:
            # ---- the shared Cassandra goes down here; restored in the finally below ----
            await asyncio.to_thread(stack.down, ["cassandra"])

            async def backing_off(count: int) -> bool:
                assert running.alive(), running.log_text()[-3000:]
                rss_samples.append(running.rss_bytes())
                return retries(running) >= count

            await wait_for(lambda: backing_off(10), 120, "the app to back off")
            left_while_down = await remaining(js, app)
            await wait_for(lambda: backing_off(60), 120, "the app to keep backing off")
            assert await remaining(js, app) == left_while_down  # nothing acked meanwhile
            assert left_while_down > 0
        finally:
            # ---- the shared Cassandra comes back, whatever happened above ----
            results = await asyncio.to_thread(stack.up, ["cassandra"])
            assert all(result.status.healthy for result in results)
        await wait_for(lambda: progressed(0), 300, "every message acked after the outage")
        assert process.terminate() == 0, process.log_text()[-3000:]
        stored = await asyncio.to_thread(snapshot, connections, app.keyspace)
    finally:
        if process is not None and process.alive():
            process.kill()
        await js.delete_stream(names.stream)
        await delete_deployment(js, app)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)

    low_mib, high_mib = min(rss_samples) >> 20, max(rss_samples) >> 20
    samples = len(rss_samples)
    print(f"outage: {left_while_down} messages left, none acked while down")
    print(f"outage: rss {low_mib}-{high_mib} MiB over {samples} samples")
    assert stored.reading_keys_ms() == data.keys
    assert max(rss_samples) < RSS_LIMIT_BYTES
    settled = rss_samples[len(rss_samples) // 3 :]
    assert max(settled) - min(settled) < RSS_GROWTH_LIMIT_BYTES
