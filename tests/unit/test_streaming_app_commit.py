"""The commit order (sinks, state, ack) and how sink failures are handled, without servers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.commit import (
    Backoff,
    BatchAbandonedError,
    Commit,
    Committer,
    SinkUnavailableError,
)
from streaming_app.runtime.fencing import LeaseLostError
from streaming_app.runtime.state_store import Checkpoint
from streaming_app.sinks.base import TransientSinkError

FAST = Backoff(initial_s=0.001, max_s=0.002)


class Journal(list[str]):
    """Everything that happened, in order."""


class FakeSink:
    def __init__(self, journal: Journal, name: str, failures: list[BaseException]) -> None:
        self.journal, self.name, self.failures = journal, name, failures

    async def write(self, batch: ProcessedBatch) -> None:
        if self.failures:
            self.journal.append(f"{self.name} failed")
            raise self.failures.pop(0)
        self.journal.append(f"{self.name} wrote")

    async def close(self) -> None:
        self.journal.append(f"{self.name} closed")


class FakeStore:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def save(
        self,
        partition: int,
        meters: Mapping[str, bytes],
        gone: Sequence[str],
        checkpoint: Checkpoint,
    ) -> None:
        self.journal.append(f"saved {sorted(meters)} up to {checkpoint.last_seq}")


class FakeMessage:
    def __init__(self, journal: Journal, seq: int) -> None:
        self.journal, self.seq = journal, seq

    async def in_progress(self) -> None:
        self.journal.append(f"in progress {self.seq}")

    async def ack(self) -> None:
        self.journal.append(f"acked {self.seq}")

    async def ack_sync(self, timeout: float = 1.0) -> Any:
        self.journal.append(f"acked {self.seq} (confirmed)")


class Held:
    def __init__(self, held: bool = True) -> None:
        self.value = held

    def held(self) -> bool:
        return self.value


def work(journal: Journal) -> Commit:
    messages = [FakeMessage(journal, 1), FakeMessage(journal, 2)]
    batch = ProcessedBatch(partition=3, processed_ms=0)
    return Commit(batch, messages, {"M1": b"{}"}, (), Checkpoint(2, 1000))


def committer(journal: Journal, *failures: list[BaseException], **kw: Any) -> Committer:
    sinks = [FakeSink(journal, f"sink{i}", list(f)) for i, f in enumerate(failures or ([],))]
    return Committer(sinks, FakeStore(journal), kw.pop("backoff", FAST), **kw)


async def test_sinks_are_written_before_the_state_and_the_state_before_the_ack() -> None:
    journal = Journal()
    await committer(journal, [], []).commit(work(journal), Held(), asyncio.Event())
    assert sorted(journal[:2]) == ["sink0 wrote", "sink1 wrote"]
    assert journal[2:] == ["saved ['M1'] up to 2", "acked 1", "acked 2 (confirmed)"]


async def test_a_transient_sink_error_retries_only_that_sink_and_acks_after_it_succeeds() -> None:
    journal = Journal()
    down: list[BaseException] = [TransientSinkError("s", "down"), TransientSinkError("s", "down")]
    await committer(journal, [], down).commit(work(journal), Held(), asyncio.Event())
    assert journal.count("sink0 wrote") == 1
    assert journal.count("sink1 failed") == 2
    assert journal.index("sink1 wrote") < journal.index("saved ['M1'] up to 2")
    assert journal[-2:] == ["acked 1", "acked 2 (confirmed)"]


async def test_other_sink_errors_propagate_and_nothing_is_saved_or_acked() -> None:
    journal = Journal()
    with pytest.raises(ValueError, match="bug"):
        await committer(journal, [ValueError("bug")]).commit(work(journal), Held(), asyncio.Event())
    assert not [line for line in journal if line.startswith(("saved", "acked"))]


async def test_messages_are_kept_alive_while_a_sink_is_down() -> None:
    journal = Journal()
    down: list[BaseException] = [TransientSinkError("s", "down") for _ in range(3)]
    slow = Backoff(initial_s=0.02, max_s=0.02)
    sink_committer = committer(journal, down, backoff=slow, keep_alive_s=0.01)
    await sink_committer.commit(work(journal), Held(), asyncio.Event())
    assert "in progress 1" in journal
    assert journal.index("in progress 1") < journal.index("acked 1")


async def test_stopping_while_a_sink_is_down_abandons_the_batch_unacked() -> None:
    journal = Journal()
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(BatchAbandonedError):
        down: list[BaseException] = [TransientSinkError("s", "down")]
        await committer(journal, down).commit(work(journal), Held(), stop)
    assert not [line for line in journal if line.startswith(("saved", "acked"))]


async def test_a_lost_lease_saves_and_acks_nothing() -> None:
    journal = Journal()
    with pytest.raises(LeaseLostError):
        await committer(journal).commit(work(journal), Held(False), asyncio.Event())
    assert journal == ["sink0 wrote"]


async def test_a_sink_down_longer_than_the_limit_stops_the_app() -> None:
    journal = Journal()
    down: list[BaseException] = [TransientSinkError("s", "down") for _ in range(1000)]
    limited = Backoff(initial_s=0.001, max_s=0.001, give_up_s=0.01)
    with pytest.raises(SinkUnavailableError):
        await committer(journal, down, backoff=limited).commit(
            work(journal), Held(), asyncio.Event()
        )


def test_backoff_doubles_up_to_its_limit() -> None:
    delays = Backoff(initial_s=0.1, max_s=0.5).delays_s()
    assert [round(next(delays), 3) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
