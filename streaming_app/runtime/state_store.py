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

Writes are fenced (:mod:`streaming_app.runtime.fencing`): :meth:`StateStore.take` loads a
partition and stamps its checkpoint with a token of this take; :meth:`StateStore.save`
writes with compare-and-set and raises :class:`LeaseLostError` once another replica has
taken the partition, so two replicas never both save one partition's state.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from smart_meter.nats_errors import is_transient
from streaming_app.runtime.fencing import FencedPartition, LeaseLostError

log = logging.getLogger(__name__)
ENVELOPE_VERSION = 1
TAKE_ATTEMPTS = 5  # a previous owner's last batch may land between a load and the take
TIMEOUT_ATTEMPTS = 5  # a request that timed out may have landed: fenced writes tell
WATCH_STALL_S = 10.0  # no entry for this long while loading: NATS TimeoutError (transient)
SAVE_RETRY_S = 0.5  # more each attempt: a cluster's stream elects a leader in seconds
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

    def to_bytes(self, writer: str | None = None) -> bytes:
        """The stored envelope; ``writer`` is the token of the take that wrote it."""
        body: dict[str, object] = {
            "v": ENVELOPE_VERSION,
            "last_seq": self.last_seq,
            "watermark_ms": self.watermark_ms,
        }
        if writer is not None:
            body["writer"] = writer
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


@dataclass(frozen=True)
class Loaded:
    """A partition's state as read, with the revisions a fenced take starts from."""

    state: PartitionState
    checkpoint_revision: int
    meter_revisions: dict[str, int]


class StateStore:
    """Loads a partition's state when it is taken; saves changed meters, then the checkpoint,
    only while no other replica has taken the partition since."""

    def __init__(
        self,
        kv: KeyValue,
        js: JetStreamContext,
        bucket: str,
        save_concurrency: int = 256,
        writer: str = "",
    ) -> None:
        self.kv, self.js, self.bucket = kv, js, bucket
        self.writer = writer
        self._slots = asyncio.Semaphore(save_concurrency)
        self._taken: dict[int, FencedPartition] = {}

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        bucket: str,
        ttl_s: float,
        replicas: int = 1,
        save_concurrency: int = 256,
        writer: str = "",
    ) -> StateStore:
        """The bucket, created with ``ttl_s`` (the meter TTL) if missing."""
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            config = KeyValueConfig(
                bucket=bucket, history=1, ttl=ttl_s, replicas=replicas, storage=StorageType.FILE
            )
            kv = await js.create_key_value(config)
        return cls(kv, js, bucket, save_concurrency, writer)

    async def load(self, partition: int) -> PartitionState:
        """The checkpoint and every meter state of ``partition`` (read only, not fenced)."""
        return (await self._read(partition)).state

    async def take(self, partition: int) -> PartitionState:
        """Load ``partition`` and fence it: from now on only this replica saves its state."""
        for _ in range(TAKE_ATTEMPTS):
            try:
                loaded = await self._read(partition)
                token = f"{self.writer}/{uuid.uuid4().hex[:12]}"
                fenced = FencedPartition(
                    self.kv, partition, checkpoint_key(partition), self._slots, token
                )
                fenced.meters = loaded.meter_revisions
                checkpoint = loaded.state.checkpoint or Checkpoint(0, None)
                if await fenced.take(checkpoint.to_bytes(token), loaded.checkpoint_revision):
                    self._taken[partition] = fenced
                    return loaded.state
            except TimeoutError as error:
                log.warning("partition %d: taking its state timed out (%r)", partition, error)
        raise LeaseLostError(partition, "taking its state (it kept changing)")

    def forget(self, partition: int) -> None:
        """This replica no longer works on ``partition`` (its next take loads afresh)."""
        self._taken.pop(partition, None)

    async def save(
        self,
        partition: int,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None:
        """Meter states (and deletions of evicted meters) first, the checkpoint last; raises
        :class:`LeaseLostError` (having written nothing more) once the partition is another's."""
        fenced = self._taken.get(partition)
        if fenced is None:
            raise LeaseLostError(partition, "saving state (the partition was not taken)")
        for attempt in range(1, TIMEOUT_ATTEMPTS + 1):
            try:
                await self._save(fenced, meters, gone, checkpoint)
                return
            except (NatsError, TimeoutError) as error:
                if not is_transient(error) or attempt == TIMEOUT_ATTEMPTS:
                    raise
                log.warning("partition %d: saving failed (%r); again", partition, error)
                await asyncio.sleep(SAVE_RETRY_S * attempt)

    async def _save(
        self,
        fenced: FencedPartition,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None:
        partition, seq = fenced.partition, checkpoint.last_seq
        await fenced.check("saving state")
        writes = [
            fenced.write_meter(meter_key(partition, m), encode_meter(m, seq, s))
            for m, s in meters.items()
        ]
        deletes = [fenced.write_meter(meter_key(partition, m), None) for m in gone]
        results = await asyncio.gather(*writes, *deletes, return_exceptions=True)
        raise_first(results)
        await fenced.write_checkpoint(checkpoint.to_bytes(fenced.token))

    async def _read(self, partition: int) -> Loaded:
        try:
            entry = await self.kv.get(checkpoint_key(partition))
        except KeyNotFoundError as missing:
            checkpoint, revision = None, int(missing.entry.revision or 0) if missing.entry else 0
        else:
            checkpoint = Checkpoint.from_bytes(entry.value or b"")
            revision = int(entry.revision or 0)
        meters, revisions = await self._meters(partition)
        return Loaded(PartitionState(checkpoint, tuple(meters)), revision, revisions)

    async def _meters(self, partition: int) -> tuple[list[SavedMeter], dict[str, int]]:
        """Every saved meter of ``partition``, read until the last one pending (``delta`` 0).
        The watcher's "caught up" marker can come before entries already on their way (it
        is sent when the consumer has nothing left *to deliver*), so it ends the load only
        when the partition really has no meter keys."""
        watcher = await self.kv.watch(f"m.p{partition}.>")
        meters, revisions = [], {}
        try:
            while True:  # bounded: a watcher whose server was lost must not hang the take
                found = await watcher.updates(timeout=WATCH_STALL_S)  # type: ignore[no-untyped-call]
                if found is None:
                    if not await self._has_meter_keys(partition):
                        break
                    continue
                if found.value and found.operation is None:  # not a delete marker
                    meters.append(decode_meter(found.value))
                    revisions[found.key] = int(found.revision or 0)
                if not found.delta:
                    break
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]
        return meters, revisions

    async def _has_meter_keys(self, partition: int) -> bool:
        subjects = f"$KV.{self.bucket}.m.p{partition}.>"
        info = await self.js.stream_info(f"KV_{self.bucket}", subjects_filter=subjects)
        return bool(info.state.subjects)


def raise_first(results: Sequence[object]) -> None:
    """Raise the first error among ``results``, a lost lease before any other."""
    errors = [r for r in results if isinstance(r, BaseException)]
    lost = [e for e in errors if isinstance(e, LeaseLostError)]
    if lost or errors:
        raise (lost or errors)[0]
