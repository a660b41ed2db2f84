"""Open the sinks a replica writes to, waiting (with back-off) for servers still down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from smart_meter.settings import ConnectionSettings
from streaming_app.runtime.commit import Backoff
from streaming_app.settings import AppSettings, CassandraClient
from streaming_app.sinks.acsylla_sink import AcsyllaSink
from streaming_app.sinks.base import Sink, TransientSinkError
from streaming_app.sinks.cassandra_sink import CassandraSink
from streaming_app.sinks.metrics_sink import MetricsSink
from streaming_app.sinks.nats_sink import NatsSink

log = logging.getLogger(__name__)

SinkOpener = Callable[[], Awaitable[Sink]]


def sink_openers(settings: AppSettings, connections: ConnectionSettings) -> list[SinkOpener]:
    """How to open each sink of the app."""

    async def cassandra() -> Sink:
        return await open_cassandra_sink(settings.cassandra_client, connections)

    async def nats_events() -> Sink:
        return await NatsSink.connect(
            connections.nats_servers,
            credentials=connections.nats_credentials(),
            readings_stream=settings.stream,
            findings=settings.publish_findings,
        )

    async def metrics() -> Sink:
        return MetricsSink(
            connections.influxdb_url,
            connections.influxdb_database,
            credentials=connections.influxdb_credentials(),
            replica=settings.replica_id,
        )

    return [cassandra, nats_events, metrics]


async def open_cassandra_sink(client: CassandraClient, connections: ConnectionSettings) -> Sink:
    """The Cassandra sink over ``client``: the same rows either way."""
    if client == "acsylla":
        return await AcsyllaSink.open(connections)
    return await CassandraSink.open(connections)


async def open_with_retry(opener: SinkOpener, backoff: Backoff, stop: asyncio.Event) -> Sink | None:
    """The sink once its server answers; ``None`` if stopped first."""
    for delay_s in backoff.delays_s():
        try:
            return await opener()
        except TransientSinkError as error:
            log.warning("sink not reachable yet (%s); retrying in %.1f s", error, delay_s)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay_s)
        if stop.is_set():
            return None
    raise AssertionError("unreachable: the back-off never ends")


async def open_sinks(
    settings: AppSettings, connections: ConnectionSettings, stop: asyncio.Event
) -> list[Sink]:
    """Every sink, opened concurrently; an empty list if stopped while waiting."""
    backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
    openers = sink_openers(settings, connections)
    opened = await asyncio.gather(*(open_with_retry(o, backoff, stop) for o in openers))
    sinks = [sink for sink in opened if sink is not None]
    if len(sinks) < len(openers):
        await close_sinks(sinks)
        return []
    return sinks


async def close_sinks(sinks: list[Sink]) -> None:
    """Close every sink; the first failure is raised after all were tried."""
    results = await asyncio.gather(*(sink.close() for sink in sinks), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
