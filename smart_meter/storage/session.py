"""A Cassandra session for the platform's keyspace."""

from __future__ import annotations

import socket

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy

from smart_meter.settings import ConnectionSettings
from smart_meter.storage.schema import ensure_schema

NO_DELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
"""The driver writes requests in 4 KiB pieces; with Nagle's algorithm on, the last piece of
a larger request waits for the server's delayed ACK: 40 ms per UNLOGGED batch over 4 KiB."""


def open_session(
    settings: ConnectionSettings, create_schema: bool = True, bind: bool = True
) -> Session:
    """Connect, create the schema if asked, and return a session bound to the keyspace
    (unbound with ``bind=False``, e.g. to drop a keyspace that may not exist)."""
    credentials = settings.cassandra_credentials()
    auth = None
    if credentials is not None:
        auth = PlainTextAuthProvider(credentials.username, credentials.password)
    cluster = Cluster(
        list(settings.cassandra_hosts),
        port=settings.cassandra_port,
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=DCAwareRoundRobinPolicy())
        },
        protocol_version=5,
        sockopts=NO_DELAY,
        auth_provider=auth,
    )
    session = cluster.connect()
    if create_schema:
        ensure_schema(session, settings.cassandra_keyspace, settings.cassandra_replication)
    if bind:
        session.set_keyspace(settings.cassandra_keyspace)
    return session
