"""Which replicas own a row's partition, for the acsylla sink's grouping by replica set.

acsylla has no token map, so the ring is read with ``cassandra-driver`` when the sink
opens (the sink ensures the schema with it anyway): each INSERT's partition key columns
and types come from the driver's prepared statement, and the replicas of a routing key
(the key's columns serialised, composite keys in the protocol's framing) from its
metadata. The ring is a snapshot: were it to change, batches would still be correct,
only routed less well (the C++ driver routes a batch by its first statement's key).
"""

from __future__ import annotations

import struct
from collections.abc import Hashable
from typing import Any

from cassandra.cluster import Session
from cassandra.metadata import Metadata

from streaming_app.sinks.cassandra_rows import Insert, Write, insert_cql

KNOWN_PARTITIONS = 100_000  # replica sets remembered (forgotten all at once beyond)
KeyColumns = tuple[tuple[int, Any], ...]  # (value index, driver type) per key column


class ReplicaSets:
    """The replica set of a write's partition, looked up once per partition."""

    def __init__(self, metadata: Metadata, keyspace: str, keys: dict[Insert, KeyColumns]) -> None:
        self._metadata, self._keyspace, self._keys = metadata, keyspace, keys
        self._known: dict[Hashable, Hashable] = {}

    @classmethod
    def read(cls, session: Session, keyspace: str, inserts: tuple[Insert, ...]) -> ReplicaSets:
        """The ring and each INSERT's partition key, from a driver session."""
        keys = {}
        for insert in inserts:
            prepared = session.prepare(insert_cql(keyspace, insert))
            columns = prepared.column_metadata
            keys[insert] = tuple((i, columns[i].type) for i in prepared.routing_key_indexes)
        return cls(session.cluster.metadata, keyspace, keys)

    def of(self, write: Write) -> Hashable:
        """The hosts that own ``write``'s partition (its partition if none are known)."""
        found = self._known.get(write.partition)
        if found is None:
            if len(self._known) >= KNOWN_PARTITIONS:
                self._known.clear()
            hosts = self._metadata.get_replicas(self._keyspace, self.routing_key(write))
            found = tuple(sorted(str(host.endpoint) for host in hosts)) or write.partition
            self._known[write.partition] = found
        return found

    def routing_key(self, write: Write) -> bytes:
        parts = [kind.serialize(write.values[i], 5) for i, kind in self._keys[write.insert]]
        if len(parts) == 1:
            return bytes(parts[0])
        return b"".join(struct.pack(">H", len(part)) + part + b"\x00" for part in parts)
