"""Helpers for the console's integration tests: isolated names, totals, stream contents.

Each test gets its own readings stream, subjects, durables, KV buckets, Cassandra
keyspace and InfluxDB database (through ``SMART_METER_*`` in this process, which the
console's replicas inherit), so it shares the servers but never another test's data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from console.rates import query_first_row
from smart_meter.codec import decode_message
from smart_meter.settings import ConnectionSettings

T = TypeVar("T")


def stored_total(connections: ConnectionSettings) -> int:
    """Every reading the app has stored into this test's database (its metrics)."""
    row = query_first_row(connections, 'SELECT sum("stored") FROM "throughput"')
    value = row[1] if row else 0
    return int(value) if isinstance(value, int | float) else 0


def rate_over(connections: ConnectionSettings, window_s: float) -> float:
    """Stored readings/s over a window of wall time (totals before and after it)."""
    first, began = stored_total(connections), time.monotonic()
    wait_until(lambda: time.monotonic() - began >= window_s, window_s + 60, "the window")
    return (stored_total(connections) - first) / (time.monotonic() - began)


def wait_until(check: Callable[[], T], timeout_s: float, what: str, poll_s: float = 1.0) -> T:
    """Poll ``check`` until it returns something true; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)  # polling a condition with a bound, not waiting for a server


async def last_seq(js: JetStreamContext, stream: str) -> int:
    try:
        return int((await js.stream_info(stream)).state.last_seq)
    except NotFoundError:
        return 0


async def meters_after(js: JetStreamContext, stream: str, after_seq: int, limit: int) -> set[str]:
    """Meter ids of up to ``limit`` messages of ``stream`` after ``after_seq``."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=after_seq + 1,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
    )
    consumer = await js.add_consumer(stream, config)
    meters: set[str] = set()
    try:
        sub = await js.pull_subscribe_bind(consumer=consumer.name, stream=stream)
        for msg in await sub.fetch(batch=limit, timeout=30):
            meters.update(reading.meter_id for reading in decode_message(msg.data).readings)
    finally:
        await js.delete_consumer(stream, consumer.name)
    return meters
