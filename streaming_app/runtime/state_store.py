"""Per-meter validator state and a per-partition checkpoint in a JetStream key-value bucket.

Keys: ``m.p<partition>.<meter>`` holds one meter's state (:meth:`Validator.meter_state`)
in an envelope with ``applied_seq``, the stream sequence of the last message whose
readings that state includes; ``ckpt.p<partition>`` holds the partition's watermark and
the last stream sequence committed. The bucket's TTL is the meter TTL, so state of a
meter that stops reporting disappears on its own; the validator evicts it too.

A partition's meter states are all loaded when the partition is claimed, not lazily:
a meter that stays silent after a crash still needs its event-time timer (the gap
raised when the watermark passes its next slot), and only loaded state has a timer.
The checkpoint is written after every meter of a batch, so a crash in between leaves
meters *ahead* of it: :class:`Recovery` knows them and skips readings they already hold.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

ENVELOPE_VERSION = 1
_PLAIN_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def meter_key(partition: int, meter_id: str) -> str:
    """KV key of a meter: ids with ``.`` or ``:`` (not valid in keys) become ``=base64url``."""
    if _PLAIN_ID.match(meter_id):
        return f"m.p{partition}.{meter_id}"
    encoded = base64.urlsafe_b64encode(meter_id.encode()).rstrip(b"=").decode()
    return f"m.p{partition}.={encoded}"


def checkpoint_key(partition: int) -> str:
    return f"ckpt.p{partition}"


@dataclass(frozen=True)
class Checkpoint:
    """What a partition has committed: stream messages up to ``last_seq``, and the watermark."""

    last_seq: int
    watermark_ms: int | None

    def to_bytes(self) -> bytes:
        body = {"v": ENVELOPE_VERSION, "last_seq": self.last_seq, "watermark_ms": self.watermark_ms}
        return orjson.dumps(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        body = orjson.loads(data)
        return cls(int(body["last_seq"]), body["watermark_ms"])


@dataclass(frozen=True)
class SavedMeter:
    """One meter's stored state and the last stream sequence it includes."""

    meter_id: str
    applied_seq: int
    state: bytes


def encode_meter(meter_id: str, applied_seq: int, state: bytes) -> bytes:
    body = {
        "v": ENVELOPE_VERSION,
        "meter_id": meter_id,
        "applied_seq": applied_seq,
        "state": orjson.Fragment(state),
    }
    return orjson.dumps(body)


def decode_meter(data: bytes) -> SavedMeter:
    body = orjson.loads(data)
    return SavedMeter(str(body["meter_id"]), int(body["applied_seq"]), orjson.dumps(body["state"]))


@dataclass
class Recovery:
    """What a newly claimed partition already committed: skip it, don't apply it twice."""

    committed_seq: int = 0
    ahead: dict[str, int] = field(default_factory=dict)  # meter -> applied_seq > committed

    def reading_done(self, meter_id: str, stream_seq: int) -> bool:
        """The meter's saved state already includes this message's readings."""
        return self.ahead.get(meter_id, 0) >= stream_seq

    def committed(self, last_seq: int) -> None:
        self.committed_seq = max(self.committed_seq, last_seq)
        if self.ahead:
            self.ahead = {m: s for m, s in self.ahead.items() if s > self.committed_seq}


@dataclass(frozen=True)
class PartitionState:
    """Everything stored for one partition."""

    checkpoint: Checkpoint | None
    meters: tuple[SavedMeter, ...]

    def recovery(self) -> Recovery:
        committed = self.checkpoint.last_seq if self.checkpoint else 0
        ahead = {m.meter_id: m.applied_seq for m in self.meters if m.applied_seq > committed}
        return Recovery(committed, ahead)


class StateStore:
    """Loads a partition's state at claim time; saves changed meters, then the checkpoint."""

    def __init__(self, kv: KeyValue, save_concurrency: int = 256) -> None:
        self.kv = kv
        self._slots = asyncio.Semaphore(save_concurrency)

    @classmethod
    async def open(
        cls, js: JetStreamContext, bucket: str, ttl_s: float, replicas: int = 1, **kw: int
    ) -> StateStore:
        """The bucket, created with ``ttl_s`` (the meter TTL) if missing."""
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            config = KeyValueConfig(
                bucket=bucket, history=1, ttl=ttl_s, replicas=replicas, storage=StorageType.FILE
            )
            kv = await js.create_key_value(config)
        return cls(kv, **kw)

    async def load(self, partition: int) -> PartitionState:
        """The checkpoint and every meter state of ``partition``."""
        try:
            entry = await self.kv.get(checkpoint_key(partition))
        except KeyNotFoundError:
            checkpoint = None
        else:
            checkpoint = Checkpoint.from_bytes(entry.value or b"")
        watcher = await self.kv.watch(f"m.p{partition}.>", ignore_deletes=True)
        meters = []
        try:
            async for found in watcher:
                if found is None:  # the watcher's "caught up" marker
                    break
                if found.value:
                    meters.append(decode_meter(found.value))
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]
        return PartitionState(checkpoint, tuple(meters))

    async def save(
        self,
        partition: int,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None:
        """Meter states (and deletions of evicted meters) first, the checkpoint last."""
        seq = checkpoint.last_seq
        puts = [
            self._put(meter_key(partition, m), encode_meter(m, seq, s)) for m, s in meters.items()
        ]
        purges = [self._purge(meter_key(partition, m)) for m in gone]
        await asyncio.gather(*puts, *purges)
        await self.kv.put(checkpoint_key(partition), checkpoint.to_bytes())

    async def _put(self, key: str, value: bytes) -> None:
        async with self._slots:
            await self.kv.put(key, value)

    async def _purge(self, key: str) -> None:
        async with self._slots:
            await self.kv.purge(key)
