"""An ``acsylla`` cluster (asyncio over the DataStax C++ driver) on the settings' Cassandra:
token-aware, TCP_NODELAY, the settings' credentials, the C++ driver's log at error level."""

from __future__ import annotations

from typing import Any

import acsylla

from smart_meter.settings import ConnectionSettings


def acsylla_cluster(settings: ConnectionSettings, **options: Any) -> Any:
    """The cluster; ``options`` are passed on to ``acsylla.create_cluster``."""
    credentials = settings.cassandra_credentials()
    return acsylla.create_cluster(
        list(settings.cassandra_hosts),
        port=settings.cassandra_port,
        username=credentials.username if credentials else None,
        password=credentials.password if credentials else None,
        token_aware_routing=True,
        tcp_nodelay=True,
        log_level="error",
        **options,
    )
