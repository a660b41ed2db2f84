"""Leases and fenced state against the real NATS: a slow owner keeps what nobody else
wants, and an owner whose partition was taken over can neither save nor ack.

Two replicas are two :class:`Coordinator` / :class:`StateStore` pairs on the same
buckets (each its own connection). A lease is "made to expire" by purging its key, as
the bucket's TTL does when renewals stop for longer than the TTL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import orjson
import pytest
from nats.js.kv import KeyValue

from smart_meter.settings import ConnectionSettings
from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.commit import Backoff, Commit, Committer
from streaming_app.runtime.fencing import FencedPartition, LeaseLostError
from streaming_app.runtime.ownership import Coordinator, Lease, lease_key
from streaming_app.runtime.state_store import (
    Checkpoint,
    StateStore,
    checkpoint_key,
    decode_meter,
    encode_meter,
    meter_key,
)

pytestmark = pytest.mark.integration

PARTITION = 3
TTL_S = 60.0  # long: these tests expire leases themselves, never by waiting


@dataclass
class Replica:
    """One replica's view of the shared buckets."""

    name: str
    coordinator: Coordinator
    store: StateStore


@dataclass
class Buckets:
    state: str
    coord: str


class Message:
    """A JetStream message stand-in that records its acks."""

    def __init__(self, acks: list[str], label: str) -> None:
        self.acks, self.label = acks, label

    async def in_progress(self) -> None:
        return None

    async def ack(self) -> None:
        self.acks.append(self.label)

    async def ack_sync(self, timeout: float = 1.0) -> Any:
        self.acks.append(self.label)


@pytest.fixture
async def buckets(connections: ConnectionSettings) -> AsyncIterator[Buckets]:
    token = uuid.uuid4().hex[:10]
    names = Buckets(f"fence_state_{token}", f"fence_coord_{token}")
    yield names
    nc = await nats.connect(connections.nats_url)
    for bucket in (names.state, names.coord):
        await nc.jetstream().delete_key_value(bucket)
    await nc.close()


@pytest.fixture
async def replicas(
    connections: ConnectionSettings, buckets: Buckets
) -> AsyncIterator[tuple[Replica, Replica]]:
    connected = [await nats.connect(connections.nats_url) for _ in range(2)]
    pair = []
    for name, nc in zip(("a", "b"), connected, strict=True):
        js = nc.jetstream()
        store = await StateStore.open(js, buckets.state, ttl_s=TTL_S, writer=name)
        coordinator = await Coordinator.open(js, buckets.coord, TTL_S, name)
        pair.append(Replica(name, coordinator, store))
    yield pair[0], pair[1]
    for nc in connected:
        await nc.close()


async def claim(replica: Replica) -> Lease:
    lease = await replica.coordinator.claim(PARTITION)
    assert lease is not None, f"{replica.name} could not claim partition {PARTITION}"
    await replica.store.take(PARTITION)
    return lease


async def expire(replica: Replica) -> None:
    """What the bucket's TTL does to a lease nobody renews."""
    await replica.coordinator.kv.purge(lease_key(PARTITION))


def commit_of(last_seq: int, acks: list[str], meters: dict[str, bytes]) -> Commit:
    messages = [Message(acks, f"seq {last_seq}")]
    batch = ProcessedBatch(partition=PARTITION, processed_ms=0)
    return Commit(batch, messages, meters, (), Checkpoint(last_seq, last_seq * 1000))


async def commit(replica: Replica, lease: Lease, work: Commit) -> None:
    committer = Committer([], replica.store, Backoff())
    await committer.commit(work, lease, asyncio.Event())


async def stored(kv: KeyValue, key: str) -> bytes:
    return (await kv.get(key)).value or b""


async def test_a_late_renewal_keeps_a_lease_that_expired_unclaimed(
    replicas: tuple[Replica, Replica],
) -> None:
    a, _ = replicas
    lease = await claim(a)
    await expire(a)
    assert await a.coordinator.renew(lease)
    assert lease.held()
    assert await stored(a.coordinator.kv, lease_key(PARTITION)) == b"a"
    acks: list[str] = []
    await commit(a, lease, commit_of(5, acks, {"M1": b'{"n":1}'}))  # no reload needed
    assert acks == ["seq 5"]


async def test_a_renewal_fails_only_once_another_replica_holds_the_lease(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    lease = await claim(a)
    assert await a.coordinator.renew(lease)
    await expire(a)
    assert await b.coordinator.claim(PARTITION) is not None
    assert not await a.coordinator.renew(lease)
    assert not lease.held()


async def test_a_replica_whose_partition_was_taken_over_can_neither_save_nor_ack(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    a_lease = await claim(a)
    a_acks: list[str] = []
    await commit(a, a_lease, commit_of(10, a_acks, {"M1": b'{"by":"a"}'}))
    await expire(a)  # A stalls past its TTL (and does not know it yet)
    b_lease = await claim(b)
    b_acks: list[str] = []
    await commit(b, b_lease, commit_of(20, b_acks, {"M1": b'{"by":"b"}'}))
    kv = b.store.kv
    b_checkpoint = await kv.get(checkpoint_key(PARTITION))

    assert a_lease.held()  # A's own view is stale: only the store can stop it
    with pytest.raises(LeaseLostError):
        await commit(a, a_lease, commit_of(15, a_acks, {"M1": b'{"by":"a late"}'}))

    assert a_acks == ["seq 10"] and b_acks == ["seq 20"]
    after = await kv.get(checkpoint_key(PARTITION))
    assert (after.revision, after.value) == (b_checkpoint.revision, b_checkpoint.value)
    assert Checkpoint.from_bytes(after.value or b"").last_seq == 20
    assert orjson.loads(after.value or b"")["writer"].startswith("b/")
    saved = decode_meter(await stored(kv, meter_key(PARTITION, "M1")))
    assert (saved.applied_seq, saved.state) == (20, b'{"by":"b"}')


async def test_a_stale_owners_late_meter_write_never_overwrites_the_new_owners(
    replicas: tuple[Replica, Replica],
) -> None:
    """The race the checks before a save cannot close: A had passed them, then stalled."""
    a, b = replicas
    kv = a.store.kv
    key = meter_key(PARTITION, "M1")
    stale = FencedPartition(kv, PARTITION, checkpoint_key(PARTITION), asyncio.Semaphore(1), "a/1")
    assert await stale.take(Checkpoint(0, None).to_bytes("a/1"), 0)
    await stale.write_meter(key, encode_meter("M1", 10, b'{"by":"a"}'))
    b_lease = await claim(b)
    await commit(b, b_lease, commit_of(20, [], {"M1": b'{"by":"b"}'}))
    b_meter = await kv.get(key)

    with pytest.raises(LeaseLostError):
        await stale.write_meter(key, encode_meter("M1", 30, b'{"by":"a late"}'))
    with pytest.raises(LeaseLostError):
        await stale.write_meter(key, None)  # nor delete it as evicted
    with pytest.raises(LeaseLostError):
        await stale.write_checkpoint(Checkpoint(30, None).to_bytes("a/1"))

    after = await kv.get(key)
    assert (after.revision, after.value) == (b_meter.revision, b_meter.value)


async def test_the_new_owner_overwrites_what_a_stale_owner_wrote_before_the_takeover(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    a_lease = await claim(a)
    await commit(a, a_lease, commit_of(10, [], {"M1": b'{"by":"a"}'}))
    await expire(a)
    b_lease = await claim(b)  # B loaded M1 as A saved it at seq 10
    late = encode_meter("M1", 15, b'{"by":"a, landing after B loaded"}')
    await a.store.kv.put(meter_key(PARTITION, "M1"), late)

    b_acks: list[str] = []
    await commit(b, b_lease, commit_of(20, b_acks, {"M1": b'{"by":"b"}'}))

    assert b_acks == ["seq 20"]
    saved = decode_meter(await stored(b.store.kv, meter_key(PARTITION, "M1")))
    assert (saved.applied_seq, saved.state) == (20, b'{"by":"b"}')
