"""Which replica owns which partition: leases and membership in a JetStream KV bucket.

Ownership is built from KV primitives in one bucket whose TTL is the lease TTL (nats-py
2.16 has no client for JetStream's priority groups, and a pinned client is no fence: see
the README, "Who owns a partition"):

- ``lease.p<partition>`` = replica id. ``create`` claims it only if absent;
  ``update`` with the last revision renews it (compare-and-set); ``delete`` with the
  last revision releases it. Not renewed, it expires with the bucket TTL.
- ``member.<replica>`` is a heartbeat put every renewal; live replicas are the keys that
  have not expired. Each replica aims at ``ceil(partitions / live replicas)`` partitions:
  it claims free ones it prefers (rendezvous hashing, so replicas want different ones)
  and releases its least preferred extras when others join.

A lease is lost only when another replica holds the key, never because this replica was
slow: a late renewal that succeeds (the compare-and-set proves nobody touched the key)
keeps it, and a key that expired unclaimed is created again. Leases say who should work
on a partition; that no two replicas both save its state or ack its messages is enforced
where the state is written (:mod:`streaming_app.runtime.fencing`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from streaming_app.runtime.fencing import WRONG_LAST_SEQUENCE

log = logging.getLogger(__name__)


def lease_key(partition: int) -> str:
    return f"lease.p{partition}"


def member_key(replica_id: str) -> str:
    return f"member.{replica_id}"


@dataclass
class Lease:
    """A partition this replica holds until another replica is found holding it."""

    partition: int
    revision: int
    lost: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one CAS at a time

    def held(self) -> bool:
        return not self.lost


def fair_share(partitions: int, replicas: int) -> int:
    """Partitions each replica aims at: ``ceil(partitions / replicas)``."""
    return math.ceil(partitions / max(replicas, 1))


def preference(replica_id: str, partition: int) -> int:
    """Rendezvous weight: each replica ranks the partitions differently, stably."""
    return zlib.crc32(f"{replica_id}/{partition}".encode())


@dataclass(frozen=True)
class Plan:
    """Partitions to claim and to release, in order."""

    claim: tuple[int, ...] = ()
    release: tuple[int, ...] = ()


def plan(
    replica_id: str,
    partitions: int,
    fixed: Sequence[int] | None,
    live: Iterable[str],
    holders: dict[int, str],
    owned: Iterable[int],
) -> Plan:
    """What to claim and release to reach a fair share (or exactly ``fixed``)."""
    mine = set(owned)
    free = [p for p in range(partitions) if p not in holders and p not in mine]
    if fixed is not None:
        wanted = set(fixed)
        return Plan(tuple(p for p in free if p in wanted), tuple(sorted(mine - wanted)))
    share = fair_share(partitions, len(set(live) | {replica_id}))
    if len(mine) > share:
        extras = sorted(mine, key=lambda p: preference(replica_id, p))
        return Plan(release=tuple(extras[: len(mine) - share]))
    free.sort(key=lambda p: preference(replica_id, p), reverse=True)
    return Plan(claim=tuple(free[: share - len(mine)]))


class Coordinator:
    """Claims, renews and releases leases; keeps this replica's membership alive."""

    def __init__(self, kv: KeyValue, replica_id: str) -> None:
        self.kv = kv
        self.replica_id = replica_id
        self.value = replica_id.encode()

    @classmethod
    async def open(
        cls, js: JetStreamContext, bucket: str, ttl_s: float, replica_id: str, replicas: int = 1
    ) -> Coordinator:
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            config = KeyValueConfig(
                bucket=bucket, history=1, ttl=ttl_s, replicas=replicas, storage=StorageType.FILE
            )
            kv = await js.create_key_value(config)
        return cls(kv, replica_id)

    async def heartbeat(self) -> None:
        await self.kv.put(member_key(self.replica_id), self.value)

    async def leave(self) -> None:
        await self.kv.delete(member_key(self.replica_id))

    async def view(self) -> tuple[list[str], dict[int, str]]:
        """Live replicas, and the holder of every leased partition."""
        members: list[str] = []
        holders: dict[int, str] = {}
        watcher = await self.kv.watch(">", ignore_deletes=True)
        try:
            async for entry in watcher:
                if entry is None:
                    break
                value = (entry.value or b"").decode()
                if entry.key.startswith("member."):
                    members.append(value)
                elif entry.key.startswith("lease.p"):
                    holders[int(entry.key.removeprefix("lease.p"))] = value
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]
        return members, holders

    async def claim(self, partition: int) -> Lease | None:
        """The lease if the partition was free, else ``None``."""
        try:
            revision = await self.kv.create(lease_key(partition), self.value)
        except KeyWrongLastSequenceError:
            return None
        return Lease(partition, revision)

    async def renew(self, lease: Lease) -> bool:
        """Extend the lease (CAS on its revision); ``False`` once another replica holds it.
        A renewal that fails for any other reason (a timeout) is tried again next round."""
        async with lease.lock:
            if lease.lost:
                return False
            try:
                lease.revision = await self.kv.update(
                    lease_key(lease.partition), self.value, last=lease.revision
                )
            except KeyWrongLastSequenceError:
                return await self._recover(lease)
            except (NatsError, TimeoutError) as error:
                log.warning("partition %d: renewal failed (%r); again", lease.partition, error)
            return True

    async def _recover(self, lease: Lease) -> bool:
        """The key is not at our revision: ours still (a timed-out renewal landed), expired
        with nobody claiming it (create it again), or another replica's (lost)."""
        try:
            held = await self._holds_again(lease)
        except (NatsError, TimeoutError) as error:
            log.warning("partition %d: lease not checked (%r); again", lease.partition, error)
            return True
        lease.lost = not held
        return held

    async def _holds_again(self, lease: Lease) -> bool:
        key = lease_key(lease.partition)
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            try:
                lease.revision = await self.kv.create(key, self.value)
            except KeyWrongLastSequenceError:
                return False
            log.warning("partition %d: lease had expired unclaimed; taken again", lease.partition)
            return True
        if entry.value == self.value and (entry.revision or 0) > lease.revision:
            lease.revision = int(entry.revision or 0)  # our renewal that timed out had landed
            return True
        return False

    async def release(self, lease: Lease) -> None:
        """Give the partition up (only if the lease is still ours)."""
        async with lease.lock:
            lease.lost = True
            try:
                await self.kv.delete(lease_key(lease.partition), last=lease.revision)
            except APIError as error:
                if error.err_code not in WRONG_LAST_SEQUENCE:
                    raise
                # Already expired, maybe claimed by another: nothing of ours to delete.
