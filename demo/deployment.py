"""The demo's own deployment of the app: stream, subjects, durables, buckets, keyspace.

Each demo run starts from nothing (:meth:`DemoDeployment.reset`) and leaves its data in
place afterwards, for a look in cqlsh, InfluxQL or ``nats`` until the next run.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.session import open_session
from smart_meter.subjects import ReadingsDestination
from streaming_app.sinks.metrics_sink import MetricsSink


@dataclass(frozen=True)
class DemoDeployment:
    """Names of everything the demo creates, all derived from ``name``."""

    name: str = "demo"

    @property
    def destination(self) -> ReadingsDestination:
        return ReadingsDestination(f"{self.name.upper()}_READINGS", f"{self.name}.readings")

    @property
    def buckets(self) -> tuple[str, str]:
        """The app's state bucket and its coordination bucket."""
        return f"{self.name}_state", f"{self.name}_coord"

    @property
    def database(self) -> str:
        """Cassandra keyspace and InfluxDB database."""
        return f"smart_meter_{self.name}"

    def connections(self, base: ConnectionSettings) -> ConnectionSettings:
        return base.model_copy(
            update={"cassandra_keyspace": self.database, "influxdb_database": self.database}
        )

    def app_values(self) -> dict[str, object]:
        """``SMART_METER_APP_*`` of the demo's replicas."""
        state, coord = self.buckets
        return {
            "stream": self.destination.stream,
            "subject_prefix": self.destination.prefix,
            "durable_prefix": self.name,
            "state_bucket": state,
            "coord_bucket": coord,
            "preset": "demo",
            "publish_findings": True,
            "lease_ttl_s": 6.0,
            "renew_interval_s": 1.0,
        }

    async def reset(self, js: JetStreamContext, connections: ConnectionSettings) -> None:
        """Delete what an earlier run left: stream (and its durables), buckets, tables."""
        with suppress(NotFoundError):
            await js.delete_stream(self.destination.stream)
        for bucket in self.buckets:
            with suppress(NotFoundError):
                await js.delete_key_value(bucket)
        session = open_session(connections, create_schema=False, bind=False)
        try:
            session.execute(f"DROP KEYSPACE IF EXISTS {self.database}", timeout=120)
        finally:
            session.cluster.shutdown()
        MetricsSink(connections.influxdb_url, self.database).query(
            f'DROP DATABASE "{self.database}"'
        )
