"""Fenced state writes: only the replica that last took a partition can save its state.

Taking a partition writes its checkpoint back with a token unique to that take
(compare-and-set on the revision just loaded). From then on every write of the partition
is a compare-and-set on the revision this owner last saw: the checkpoint on its own last
write, each meter on the revision it loaded or last wrote, an evicted meter's deletion
likewise. A write that finds another revision is retried only while the checkpoint
still holds this owner's bytes (the key had expired, or a previous owner's late write
landed before the take); otherwise another replica took the partition since, and
:class:`LeaseLostError` is raised: nothing more is written, so nothing is acked.

A stale owner therefore never overwrites a write of the owner that took over, and its
checkpoint is refused once the new owner has taken the partition. A write that timed
out may still have landed: the checkpoint's bytes carry the token, so an owner
recognises its own write when it reads the key back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from nats.js.errors import APIError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

WRONG_LAST_SEQUENCE = (10071, 10164)  # JetStream: the key moved on since that revision
CAS_ATTEMPTS = 5  # conflicts with our own late writes or expired keys, then give up


class LeaseLostError(RuntimeError):
    """Another replica owns the partition now: nothing more may be saved or acked."""

    def __init__(self, partition: int, step: str) -> None:
        self.partition, self.step = partition, step
        super().__init__(f"lease of partition {partition} lost before {step}")


class ConflictError(Exception):
    """A compare-and-set found the key at another revision."""


async def last_revision(kv: KeyValue, key: str) -> int:
    """The key's current revision: its value's, its delete marker's, or 0 if it has none."""
    try:
        entry = await kv.get(key)
    except KeyNotFoundError as missing:
        marker = missing.entry
        return int(marker.revision or 0) if marker is not None else 0
    return int(entry.revision or 0)


async def compare_and_set(kv: KeyValue, key: str, value: bytes | None, last: int) -> int:
    """Write ``value`` (``None``: a delete marker) only if the key is at revision ``last``."""
    try:
        if value is None:
            await kv.delete(key, last=last or None)
            return 0
        return await kv.update(key, value, last=last)
    except KeyWrongLastSequenceError as error:
        raise ConflictError(key) from error
    except APIError as error:  # a conditional delete reports a conflict as a plain API error
        if error.err_code in WRONG_LAST_SEQUENCE:
            raise ConflictError(key) from error
        raise


@dataclass
class FencedPartition:
    """The writes of one partition by the replica that took it."""

    kv: KeyValue
    partition: int
    checkpoint_key: str
    slots: asyncio.Semaphore
    token: str  # written into every checkpoint of this take
    meters: dict[str, int] = field(default_factory=dict)  # meter key -> revision last seen
    written: bytes = b""  # this owner's last checkpoint, token included
    revision: int = 0  # of the checkpoint, as this owner last wrote or verified it

    async def take(self, value: bytes, loaded_revision: int) -> bool:
        """Write the checkpoint with this take's token; ``False`` if it changed since the
        load (a previous owner's last batch landed: load again)."""
        try:
            self.revision = await compare_and_set(
                self.kv, self.checkpoint_key, value, loaded_revision
            )
        except ConflictError:
            found, revision = await self._current()
            if found != value:  # not our own write that timed out and landed anyway
                return False
            self.revision = revision
        self.written = value
        return True

    async def check(self, step: str) -> None:
        """Raise unless the checkpoint is still this owner's (nobody took the partition)."""
        found, revision = await self._current()
        if found and found != self.written:
            raise LeaseLostError(self.partition, step)
        self.revision = revision

    async def write_meter(self, key: str, value: bytes | None) -> None:
        """Save (``None``: delete) one meter; what a past owner left is overwritten."""
        async with self.slots:
            try:
                revision = await compare_and_set(self.kv, key, value, self.meters.get(key, 0))
            except ConflictError:
                revision = await self._overwrite(key, value)
        if value is None:
            self.meters.pop(key, None)
        else:
            self.meters[key] = revision

    async def write_checkpoint(self, value: bytes) -> None:
        """The last write of a batch: refused if another owner wrote the checkpoint."""
        for _ in range(CAS_ATTEMPTS):
            try:
                self.revision = await compare_and_set(
                    self.kv, self.checkpoint_key, value, self.revision
                )
            except ConflictError:
                found, revision = await self._current()
                if found == value:  # our own write, which timed out, had landed
                    self.revision = revision
                    break
                await self.check("acking")
                continue
            break
        else:
            raise LeaseLostError(self.partition, "acking (the checkpoint kept changing)")
        self.written = value

    async def _overwrite(self, key: str, value: bytes | None) -> int:
        """A meter's revision moved: overwrite it only while the partition is still ours."""
        for _ in range(CAS_ATTEMPTS):
            await self.check("saving state")
            current = await last_revision(self.kv, key)
            if value is None and current == 0:
                return 0  # nothing left to delete
            try:
                return await compare_and_set(self.kv, key, value, current)
            except ConflictError:
                continue
        raise LeaseLostError(self.partition, f"saving state ({key} kept changing)")

    async def _current(self) -> tuple[bytes, int]:
        """The checkpoint's bytes and revision (``b""`` if it expired)."""
        try:
            entry = await self.kv.get(self.checkpoint_key)
        except KeyNotFoundError:
            return b"", await last_revision(self.kv, self.checkpoint_key)
        return entry.value or b"", int(entry.revision or 0)
