"""In-memory fakes of what the :class:`Committer` talks to, for tests without servers.

They drive the production commit path (and a sink of one's own) as a test wants it:

- :class:`FakeClock`: virtual time; a back-off takes no real time;
- :class:`MemorySink`: keeps the batches it was given; fails transiently when told to;
- :class:`MemoryStateStore`: meter states and checkpoints, encoded exactly as
  :class:`streaming_app.runtime.state_store.StateStore` encodes them, and loadable;
- :class:`FakeMessage`: an :class:`Ackable` that records what it was told;
- :class:`HeldFence`: a lease the test holds, or loses.

A process dying mid-commit is a :class:`Crash` raised by a fake at a chosen step:
``MemorySink(crash_after=k)``, ``MemoryStateStore.crash_after_meters``,
``FakeMessage(crash_on_ack=True)``. Each crashes once, then behaves again. The fakes can
share a ``journal`` (a list of lines) that shows the order in which things happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.state_store import (
    Checkpoint,
    PartitionState,
    decode_meter,
    encode_meter,
)
from streaming_app.sinks.base import TransientSinkError


class Crash(Exception):  # noqa: N818 (it is what a test makes happen, not an error)
    """The process died at ``step``: nothing after it happened."""

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(f"crash at {step}")


@dataclass
class _Sleeper:
    event: asyncio.Event
    until_s: float

    def asleep(self, now_s: float) -> bool:
        return not self.event.is_set() and now_s < self.until_s


class FakeClock:
    """Virtual monotonic time that moves only when waited on, and then at once.

    A wait lets the other tasks run for one turn of the event loop, then time jumps to
    its deadline, unless a wait begun meanwhile ends sooner: that one jumps first. So
    concurrent waits end in the order of their deadlines and none takes real time, while
    time stands still for work that waits on nothing but the event loop.
    """

    def __init__(self, start_s: float = 0.0) -> None:
        self._now_s = start_s
        self._sleepers: list[_Sleeper] = []

    def now_s(self) -> float:
        return self._now_s

    async def wait(self, event: asyncio.Event, timeout_s: float) -> bool:
        """``True`` once ``event`` is set, ``False`` once ``timeout_s`` of virtual time passed."""
        sleeper = _Sleeper(event, self._now_s + timeout_s)
        self._sleepers.append(sleeper)
        try:
            await asyncio.sleep(0)  # waits begun at the same time register; events get set
            while sleeper.asleep(self._now_s):
                if self._first_to_wake(sleeper):
                    self._now_s = sleeper.until_s
                else:
                    await asyncio.sleep(0)
        finally:
            self._sleepers.remove(sleeper)
        return event.is_set()

    def _first_to_wake(self, sleeper: _Sleeper) -> bool:
        deadlines = (s.until_s for s in self._sleepers if s.asleep(self._now_s))
        return sleeper.until_s <= min(deadlines)


class MemorySink:
    """A sink that keeps every batch it wrote, in order.

    ``transient_failures``: that many writes raise :class:`TransientSinkError` first.
    ``crash_after``: that many more writes happen, then the next one raises :class:`Crash`.
    """

    def __init__(
        self,
        name: str = "memory",
        *,
        transient_failures: int = 0,
        crash_after: int | None = None,
        journal: list[str] | None = None,
    ) -> None:
        self.name = name
        self.transient_failures = transient_failures
        self.crash_after = crash_after
        self.journal = [] if journal is None else journal
        self.batches: list[ProcessedBatch] = []
        self.closed = False

    async def write(self, batch: ProcessedBatch) -> None:
        self._crash_if_told()
        if self.transient_failures > 0:
            self.transient_failures -= 1
            self.journal.append(f"{self.name} failed")
            raise TransientSinkError(self.name, "down (told to fail)")
        self.batches.append(batch)
        self.journal.append(f"{self.name} wrote")

    async def close(self) -> None:
        self.closed = True
        self.journal.append(f"{self.name} closed")

    def _crash_if_told(self) -> None:
        if self.crash_after is None:
            return
        if self.crash_after > 0:
            self.crash_after -= 1
            return
        self.crash_after = None
        raise Crash(f"{self.name} write")


class MemoryStateStore:
    """Meter states and checkpoints per partition, stored as the real store stores them.

    ``crash_after_meters = k``: the next save stores ``k`` meter states (all of them if it
    has fewer, and then drops the evicted ones) and raises :class:`Crash` before the
    checkpoint.
    """

    def __init__(self, *, journal: list[str] | None = None) -> None:
        self.meters: dict[int, dict[str, bytes]] = {}  # partition -> meter -> envelope
        self.checkpoints: dict[int, bytes] = {}
        self.crash_after_meters: int | None = None
        self.journal = [] if journal is None else journal

    async def save(
        self,
        partition: int,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None:
        """Meter states (each saved with the checkpoint's sequence), deletions, checkpoint."""
        stored = self.meters.setdefault(partition, {})
        for saved, (meter_id, state) in enumerate(meters.items()):
            self._crash_if_told(saved)
            stored[meter_id] = encode_meter(meter_id, checkpoint.last_seq, state)
        self._crash_if_told(len(meters))
        for meter_id in gone:
            stored.pop(meter_id, None)
        self.checkpoints[partition] = checkpoint.to_bytes()
        self.journal.append(f"saved {sorted(meters)} up to {checkpoint.last_seq}")

    async def load(self, partition: int) -> PartitionState:
        """The checkpoint and every meter state of ``partition``, decoded as the real store."""
        data = self.checkpoints.get(partition)
        checkpoint = None if data is None else Checkpoint.from_bytes(data)
        meters = tuple(
            decode_meter(envelope) for envelope in self.meters.get(partition, {}).values()
        )
        return PartitionState(checkpoint, meters)

    def _crash_if_told(self, saved: int) -> None:
        if self.crash_after_meters is not None and saved >= self.crash_after_meters:
            self.crash_after_meters = None
            raise Crash(f"state store, after {saved} meter states")


class FakeMessage:
    """A JetStream message as the committer sees it; ``crash_on_ack``: acking it crashes."""

    def __init__(
        self, stream_seq: int, *, crash_on_ack: bool = False, journal: list[str] | None = None
    ) -> None:
        self.stream_seq = stream_seq
        self.crash_on_ack = crash_on_ack
        self.journal = [] if journal is None else journal
        self.acked = False
        self.in_progress_sent = 0

    async def in_progress(self) -> None:
        self.in_progress_sent += 1
        self.journal.append(f"in progress {self.stream_seq}")

    async def ack(self) -> None:
        self._acked(f"acked {self.stream_seq}")

    async def ack_sync(self, timeout: float = 1.0) -> None:
        self._acked(f"acked {self.stream_seq} (confirmed)")

    def _acked(self, line: str) -> None:
        if self.crash_on_ack:
            self.crash_on_ack = False
            raise Crash(f"ack of message {self.stream_seq}")
        self.acked = True
        self.journal.append(line)


class HeldFence:
    """A partition lease that stays held until the test calls :meth:`lose`."""

    def __init__(self, held: bool = True) -> None:
        self._held = held

    def held(self) -> bool:
        return self._held

    def lose(self) -> None:
        self._held = False
