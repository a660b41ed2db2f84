"""The one place that orders durability: sinks, then per-meter state, then the ack.

For one :class:`Commit` (a processed batch and the messages it came from):

1. every sink writes the batch, concurrently. A :class:`TransientSinkError` backs off
   exponentially (bounded delay) and retries only the sinks that failed, with the
   messages kept un-acked (``in_progress`` keeps JetStream from redelivering them) and
   nothing more pulled, since the partition's worker waits here. Any other error
   propagates and stops the app loudly;
2. the changed meter states, then the partition checkpoint, go to the state store;
3. the messages are acked, the last one with ``ack_sync`` (a confirmed double ack).

A crash anywhere loses nothing: before 3 the messages are redelivered, sinks are
idempotent, and the checkpoint tells a redelivered message from a new one. Between
steps the lease is checked: a replica that lost its partition saves and acks nothing.
The back-off delays and the ``give_up_s`` limit are timed on the :class:`Clock` the
committer is given (the real monotonic clock unless a test injects
:class:`streaming_app.runtime.testing.FakeClock`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from nats.errors import Error as NatsError

from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.clock import REAL_CLOCK, Clock
from streaming_app.runtime.fencing import LeaseLostError
from streaming_app.runtime.state_store import Checkpoint
from streaming_app.sinks.base import Sink, TransientSinkError

log = logging.getLogger(__name__)
ACK_TIMEOUT_S = 5.0


class Ackable(Protocol):
    """What the committer needs of a JetStream message."""

    async def in_progress(self) -> None: ...

    async def ack(self) -> None: ...

    async def ack_sync(self, timeout: float = 1.0) -> Any: ...


class StateSaver(Protocol):
    """Where changed meter states and the partition checkpoint go (:class:`StateStore`)."""

    async def save(
        self,
        partition: int,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None: ...


class Fence(Protocol):
    """Whether this replica still owns the partition (its lease is held)."""

    def held(self) -> bool: ...


class BatchAbandonedError(RuntimeError):
    """Shutdown or lease loss while sinks were down: the batch stays un-acked for later."""

    def __init__(self, partition: int, reason: str) -> None:
        self.partition, self.reason = partition, reason
        super().__init__(f"partition {partition}: batch abandoned ({reason})")


class SinkUnavailableError(ConnectionError):
    """A sink stayed down longer than ``give_up_s``: crash, let the supervisor restart."""


@dataclass(frozen=True)
class Backoff:
    """Exponential delays from ``initial_s`` doubling up to ``max_s``."""

    initial_s: float = 0.1
    max_s: float = 5.0
    give_up_s: float | None = None

    def delays_s(self) -> Iterator[float]:
        delay_s = self.initial_s
        while True:
            yield delay_s
            delay_s = min(delay_s * 2, self.max_s)


@dataclass(frozen=True)
class Commit:
    """A processed batch and what must follow it: states, checkpoint, acks."""

    batch: ProcessedBatch
    messages: Sequence[Ackable]
    meter_states: Mapping[str, bytes]
    evicted: Sequence[str]
    checkpoint: Checkpoint


@dataclass
class CommitStats:
    """What the committer did, for progress reports."""

    batches: int = 0
    messages: int = 0
    sink_retries: int = 0
    ack_failures: int = 0


class Committer:
    """Commits batches of any partition; at most ``max_in_flight`` at once."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        store: StateSaver,
        backoff: Backoff,
        *,
        max_in_flight: int = 4,
        keep_alive_s: float = 10.0,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.sinks = tuple(sinks)
        self.store = store
        self.backoff = backoff
        self.keep_alive_s = keep_alive_s
        self.clock = clock
        self._slots = asyncio.Semaphore(max_in_flight)
        self.stats = CommitStats()

    async def commit(self, work: Commit, fence: Fence, stop: asyncio.Event) -> None:
        """Sinks, state, ack: in that order, or raise with nothing acked."""
        partition = work.batch.partition
        async with self.keeping_alive(work.messages), self._slots:
            await self._write_sinks(work.batch, fence, stop)
            self._check(fence, partition, "saving state")
            meters, evicted = work.meter_states, work.evicted
            await self.store.save(partition, meters, evicted, work.checkpoint)
            self._check(fence, partition, "acking")
        await self._ack(work.messages)
        self.stats.batches += 1
        self.stats.messages += len(work.messages)

    @staticmethod
    def _check(fence: Fence, partition: int, step: str) -> None:
        if not fence.held():
            raise LeaseLostError(partition, step)

    async def _write_sinks(self, batch: ProcessedBatch, fence: Fence, stop: asyncio.Event) -> None:
        pending = list(self.sinks)
        delays_s = self.backoff.delays_s()
        began = self.clock.now_s()
        while pending:
            results = await asyncio.gather(
                *(s.write(batch) for s in pending), return_exceptions=True
            )
            failed = [
                sink
                for sink, result in zip(pending, results, strict=True)
                if isinstance(result, BaseException)
            ]
            for result in results:
                if isinstance(result, BaseException) and not isinstance(result, TransientSinkError):
                    raise result
            if not failed:
                return
            pending = failed
            await self._back_off(batch.partition, results, next(delays_s), began, fence, stop)

    async def _back_off(
        self,
        partition: int,
        results: Sequence[object],
        delay_s: float,
        began: float,
        fence: Fence,
        stop: asyncio.Event,
    ) -> None:
        errors = [r for r in results if isinstance(r, TransientSinkError)]
        give_up_s = self.backoff.give_up_s
        if give_up_s is not None and self.clock.now_s() - began > give_up_s:
            message = f"sinks down for over {give_up_s} s: {errors}"
            raise SinkUnavailableError(message) from errors[0]
        self.stats.sink_retries += 1
        log.warning("partition %d: %s; retrying in %.2f s", partition, errors, delay_s)
        if await self.clock.wait(stop, delay_s):
            raise BatchAbandonedError(partition, "stopping while sinks are down")
        if not fence.held():
            raise BatchAbandonedError(partition, "lease lost while sinks are down")

    async def _ack(self, messages: Sequence[Ackable]) -> None:
        """Ack every message, the last one confirmed (``ack_sync``) after the others went out
        in order on the same connection. An ack that is lost anyway is harmless: the message
        comes back, and the checkpoint marks it as done."""
        if not messages:
            return
        try:
            for message in messages[:-1]:
                await message.ack()
            await messages[-1].ack_sync(timeout=ACK_TIMEOUT_S)
        except (NatsError, TimeoutError) as error:
            # Harmless: the messages come back and the checkpoint marks them as done.
            self.stats.ack_failures += 1
            log.warning("acks not confirmed (%r); redeliveries will be skipped", error)

    @asynccontextmanager
    async def keeping_alive(self, messages: Sequence[Ackable]) -> AsyncIterator[None]:
        """Tell JetStream every ``keep_alive_s`` that the messages are still being worked on."""
        task = asyncio.create_task(self._touch_every(messages))
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _touch_every(self, messages: Sequence[Ackable]) -> None:
        while True:
            await asyncio.sleep(self.keep_alive_s)
            try:
                await asyncio.gather(*(m.in_progress() for m in messages))
            except (NatsError, TimeoutError) as error:
                # Not fatal: at worst JetStream redelivers, and the checkpoint skips it.
                log.warning("in-progress signal failed: %r", error)
