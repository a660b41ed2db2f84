"""Start replicas of the streaming app as processes, configured through their environment.

The demo and the integration tests run the app exactly as a user does,
``python -m streaming_app run``, with ``SMART_METER_APP_*`` (the app),
``SMART_METER_VALIDATION_*`` (rule parameters) and ``SMART_METER_*`` (where the servers
are) set from typed values; nothing else of the caller's ``SMART_METER_*`` leaks in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import orjson
import psutil
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from smart_meter.settings import ConnectionSettings
from smart_meter.subjects import ReadingsDestination

ROOT = Path(__file__).resolve().parents[1]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def app_environment(
    connections: ConnectionSettings,
    app: Mapping[str, object],
    validation: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The environment of one app process: ``app`` as ``SMART_METER_APP_<KEY>``,
    ``validation`` as ``SMART_METER_VALIDATION_<KEY>`` (nested keys joined by ``__``)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMART_METER_")}
    env.update({f"SMART_METER_APP_{key.upper()}": _text(value) for key, value in app.items()})
    for key, value in (validation or {}).items():
        env[f"SMART_METER_VALIDATION_{key.upper()}"] = _text(value)
    env["SMART_METER_NATS_URL"] = connections.nats_url
    env["SMART_METER_CASSANDRA_HOSTS"] = _text(list(connections.cassandra_hosts))
    env["SMART_METER_CASSANDRA_PORT"] = str(connections.cassandra_port)
    env["SMART_METER_CASSANDRA_KEYSPACE"] = connections.cassandra_keyspace
    env["SMART_METER_INFLUXDB_URL"] = connections.influxdb_url
    env["SMART_METER_INFLUXDB_DATABASE"] = connections.influxdb_database
    env["SMART_METER_PARTITIONS"] = str(connections.partitions)
    for server in ("nats", "cassandra", "influxdb"):  # credentials, where set
        username = getattr(connections, f"{server}_username")
        password_file = getattr(connections, f"{server}_password_file")
        if username is not None:
            env[f"SMART_METER_{server.upper()}_USERNAME"] = username
        if password_file is not None:
            env[f"SMART_METER_{server.upper()}_PASSWORD_FILE"] = str(password_file)
    return env


class AppProcess:
    """``python -m streaming_app run`` as a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        command = [sys.executable, "-m", "streaming_app", "run", *args]
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout_s: float = 60) -> int:
        """SIGTERM (the app finishes its batches in flight) and the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def wait(self, timeout_s: float) -> int:
        return self.process.wait(timeout=timeout_s)

    def rss_bytes(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def last_lines(self, count: int = 5) -> str:
        """The end of the log, for a one-line error."""
        return " | ".join(self.log_text().strip().splitlines()[-count:])


async def backlog(
    js: JetStreamContext, destination: ReadingsDestination, durable_prefix: str, partitions: int
) -> int:
    """Messages of the readings stream a deployment has not acked yet (a partition whose
    durable does not exist yet counts all its messages)."""
    total = 0
    for partition in range(partitions):
        subject = destination.subject(partition)
        try:
            info = await js.consumer_info(destination.stream, f"{durable_prefix}-p{partition}")
        except NotFoundError:
            stream = await js.stream_info(destination.stream, subjects_filter=subject)
            total += (stream.state.subjects or {}).get(subject, 0)
        else:
            total += (info.num_pending or 0) + (info.num_ack_pending or 0)
    return total
