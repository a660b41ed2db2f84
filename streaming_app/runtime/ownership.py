"""Which replica owns which partition: leases and membership in a JetStream KV bucket.

nats-py 2.16 has no consumer priority groups, so ownership is built from KV primitives
in one bucket whose TTL is the lease TTL:

- ``lease.p<partition>`` = replica id. ``create`` claims it only if absent;
  ``update`` with the last revision renews it (compare-and-set); ``delete`` with the
  last revision releases it. Not renewed, it expires with the bucket TTL.
- ``member.<replica>`` is a heartbeat put every renewal; live replicas are the keys that
  have not expired. Each replica aims at ``ceil(partitions / live replicas)`` partitions:
  it claims free ones it prefers (rendezvous hashing, so replicas want different ones)
  and releases its least preferred extras when others join.

Why a partition cannot have two owners: a claim is a CAS on an absent key, so of two
claimants one fails. The holder renews every ``renew_interval_s`` (at most a third of
the TTL) and counts its lease as held only until ``sent + ttl - renew_interval``, measured
from *before* the renewal was sent, so it stops saving and acking before the server can
expire the key; a failed renewal marks the lease lost at once. Another replica can
claim only after the key expired or was released, i.e. after the old owner stopped.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import APIError, BucketNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

WRONG_LAST_SEQUENCE = (10071, 10164)  # JetStream: the key moved on since that revision


def lease_key(partition: int) -> str:
    return f"lease.p{partition}"


def member_key(replica_id: str) -> str:
    return f"member.{replica_id}"


@dataclass
class Lease:
    """A partition this replica holds, until ``valid_until`` (monotonic seconds)."""

    partition: int
    revision: int
    valid_until: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    lost: bool = False

    def held(self) -> bool:
        return not self.lost and self.clock() < self.valid_until


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

    def __init__(
        self,
        kv: KeyValue,
        replica_id: str,
        valid_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kv = kv
        self.replica_id = replica_id
        self.valid_s = valid_s
        self.clock = clock

    @classmethod
    async def open(
        cls, js: JetStreamContext, bucket: str, ttl_s: float, replica_id: str, valid_s: float
    ) -> Coordinator:
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            config = KeyValueConfig(bucket=bucket, history=1, ttl=ttl_s, storage=StorageType.FILE)
            kv = await js.create_key_value(config)
        return cls(kv, replica_id, valid_s)

    async def heartbeat(self) -> None:
        await self.kv.put(member_key(self.replica_id), self.replica_id.encode())

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
        sent = self.clock()
        try:
            revision = await self.kv.create(lease_key(partition), self.replica_id.encode())
        except KeyWrongLastSequenceError:
            return None
        return Lease(partition, revision, sent + self.valid_s, self.clock)

    async def renew(self, lease: Lease) -> bool:
        """Extend the lease (CAS on its revision); a failure marks it lost."""
        sent = self.clock()
        try:
            lease.revision = await self.kv.update(
                lease_key(lease.partition), self.replica_id.encode(), last=lease.revision
            )
        except (KeyWrongLastSequenceError, NatsError, TimeoutError):
            lease.lost = True
            return False
        lease.valid_until = sent + self.valid_s
        return True

    async def release(self, lease: Lease) -> None:
        """Give the partition up (only if the lease is still ours)."""
        lease.lost = True
        try:
            await self.kv.delete(lease_key(lease.partition), last=lease.revision)
        except APIError as error:
            if error.err_code not in WRONG_LAST_SEQUENCE:
                raise
            # Already expired, maybe claimed by another: nothing of ours to delete.
