"""A replica of the streaming app, wired: NATS, state store, leases, sinks, workers.

SIGTERM or SIGINT stops it gracefully: each worker finishes the batch in hand (sinks,
state, ack), leases are released so another replica takes over at once, the sinks are
closed. ``idle_exit_s`` ends it the same way after that long without a message.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from smart_meter.settings import ConnectionSettings
from smart_meter.streams import StreamLimits, ensure_readings_streams, readings_stream_config
from smart_meter.subjects import READINGS_STREAM
from streaming_app.runtime.commit import Backoff, Committer
from streaming_app.runtime.ownership import Coordinator
from streaming_app.runtime.replica import Replica
from streaming_app.runtime.state_store import StateStore
from streaming_app.runtime.wiring import close_sinks, open_sinks
from streaming_app.runtime.worker import Activity, WorkerContext
from streaming_app.settings import AppSettings
from streaming_app.sinks.base import Sink

log = logging.getLogger(__name__)


async def ensure_stream(js: JetStreamContext, settings: AppSettings) -> None:
    """The readings stream: the shared one with its dead letters, or a named one if missing."""
    if settings.stream == READINGS_STREAM:
        await ensure_readings_streams(js)
        return
    try:
        await js.stream_info(settings.stream)
    except NotFoundError:
        await js.add_stream(readings_stream_config(destination=settings.destination))


def committer(settings: AppSettings, sinks: list[Sink], store: StateStore) -> Committer:
    backoff = Backoff(
        settings.backoff_initial_s, settings.backoff_max_s, settings.backoff_give_up_s
    )
    return Committer(
        sinks,
        store,
        backoff,
        max_in_flight=settings.max_in_flight_batches,
        keep_alive_s=settings.ack_wait_s / 3,
    )


async def run_replica(
    settings: AppSettings, connections: ConnectionSettings, nc: NatsClient, stop: asyncio.Event
) -> None:
    js = nc.jetstream()
    await ensure_stream(js, settings)
    validation = settings.validation()
    copies = max(settings.state_replicas, StreamLimits().replicas)  # of the KV buckets
    store = await StateStore.open(
        js,
        settings.state_bucket,
        ttl_s=validation.meter_ttl_ms / 1000,
        replicas=copies,
        save_concurrency=settings.state_save_concurrency,
        writer=settings.replica_id,
    )
    coordinator = await Coordinator.open(
        js, settings.coord_bucket, settings.lease_ttl_s, settings.replica_id, copies
    )
    sinks = await open_sinks(settings, connections, stop)
    if not sinks:
        return
    try:
        context = WorkerContext(
            settings=settings,
            validation=validation,
            partitions=connections.partitions,
            js=js,
            store=store,
            committer=committer(settings, sinks, store),
            activity=Activity(),
        )
        await Replica(coordinator, context).run(stop)
    finally:
        await close_sinks(sinks)


async def run_app(settings: AppSettings, connections: ConnectionSettings) -> None:
    """Run one replica until SIGTERM/SIGINT, idle exit, or a failure (raised)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    nc = await nats.connect(**connections.nats_connect_options(), max_reconnect_attempts=-1)
    log.info("replica %s up (preset %s)", settings.replica_id, settings.preset)
    try:
        await run_replica(settings, connections, nc, stop)
    finally:
        await nc.drain()
        log.info("replica %s down", settings.replica_id)
