"""The commit order (sinks, state, ack) and how sink failures are handled, without servers.

The committer runs on a :class:`FakeClock`: back-offs and ``give_up_s`` pass in virtual
time, so no test waits in real time or depends on how fast it runs.
"""

from __future__ import annotations

import asyncio

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
from streaming_app.runtime.testing import (
    FakeClock,
    FakeMessage,
    HeldFence,
    MemorySink,
    MemoryStateStore,
)

BACKOFF = Backoff(initial_s=0.1, max_s=0.4)


class BuggySink(MemorySink):
    """A sink with a bug: every write raises something other than a transient error."""

    async def write(self, batch: ProcessedBatch) -> None:
        self.journal.append(f"{self.name} failed")
        raise ValueError("bug")


def work(journal: list[str]) -> Commit:
    messages = [FakeMessage(1, journal=journal), FakeMessage(2, journal=journal)]
    batch = ProcessedBatch(partition=3, processed_ms=0)
    return Commit(batch, messages, {"M1": b"{}"}, (), Checkpoint(2, 1000))


def sinks(journal: list[str], *transient_failures: int) -> list[MemorySink]:
    return [
        MemorySink(f"sink{i}", transient_failures=failures, journal=journal)
        for i, failures in enumerate(transient_failures or (0,))
    ]


def committer(
    journal: list[str],
    sinks: list[MemorySink],
    clock: FakeClock | None = None,
    backoff: Backoff = BACKOFF,
    keep_alive_s: float = 10.0,
) -> Committer:
    store = MemoryStateStore(journal=journal)
    return Committer(sinks, store, backoff, keep_alive_s=keep_alive_s, clock=clock or FakeClock())


def saved_or_acked(journal: list[str]) -> list[str]:
    return [line for line in journal if line.startswith(("saved", "acked"))]


async def test_sinks_are_written_before_the_state_and_the_state_before_the_ack() -> None:
    journal: list[str] = []
    await committer(journal, sinks(journal, 0, 0)).commit(
        work(journal), HeldFence(), asyncio.Event()
    )
    assert sorted(journal[:2]) == ["sink0 wrote", "sink1 wrote"]
    assert journal[2:] == ["saved ['M1'] up to 2", "acked 1", "acked 2 (confirmed)"]


async def test_a_transient_sink_error_retries_only_that_sink_and_acks_after_it_succeeds() -> None:
    journal: list[str] = []
    await committer(journal, sinks(journal, 0, 2)).commit(
        work(journal), HeldFence(), asyncio.Event()
    )
    assert journal.count("sink0 wrote") == 1
    assert journal.count("sink1 failed") == 2
    assert journal.index("sink1 wrote") < journal.index("saved ['M1'] up to 2")
    assert journal[-2:] == ["acked 1", "acked 2 (confirmed)"]


async def test_the_back_off_doubles_its_delays_on_the_injected_clock() -> None:
    journal: list[str] = []
    clock = FakeClock()
    await committer(journal, sinks(journal, 4), clock).commit(
        work(journal), HeldFence(), asyncio.Event()
    )
    assert clock.now_s() == pytest.approx(0.1 + 0.2 + 0.4 + 0.4)


async def test_other_sink_errors_propagate_and_nothing_is_saved_or_acked() -> None:
    journal: list[str] = []
    with pytest.raises(ValueError, match="bug"):
        await committer(journal, [BuggySink(journal=journal)]).commit(
            work(journal), HeldFence(), asyncio.Event()
        )
    assert not saved_or_acked(journal)


async def test_messages_are_kept_alive_while_a_sink_is_down() -> None:
    journal: list[str] = []
    # keep_alive_s=0: a signal at every turn of the event loop, so no real time passes
    down = committer(journal, sinks(journal, 3), keep_alive_s=0.0)
    await down.commit(work(journal), HeldFence(), asyncio.Event())
    assert "in progress 1" in journal
    assert journal.index("in progress 1") < journal.index("sink0 wrote")
    assert journal.index("in progress 1") < journal.index("acked 1")


async def test_stopping_while_a_sink_is_down_abandons_the_batch_unacked() -> None:
    journal: list[str] = []
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(BatchAbandonedError, match="stopping"):
        await committer(journal, sinks(journal, 1)).commit(work(journal), HeldFence(), stop)
    assert not saved_or_acked(journal)


async def test_a_lease_lost_while_a_sink_is_down_abandons_the_batch_unacked() -> None:
    journal: list[str] = []
    clock, fence = FakeClock(), HeldFence()

    async def lose_lease_after(delay_s: float) -> None:
        await clock.wait(asyncio.Event(), delay_s)
        fence.lose()

    losing = asyncio.create_task(lose_lease_after(0.05))  # during the first 0.1 s back-off
    with pytest.raises(BatchAbandonedError, match="lease lost"):
        await committer(journal, sinks(journal, 1), clock).commit(
            work(journal), fence, asyncio.Event()
        )
    await losing
    assert not saved_or_acked(journal)


async def test_a_lost_lease_saves_and_acks_nothing() -> None:
    journal: list[str] = []
    with pytest.raises(LeaseLostError):
        await committer(journal, sinks(journal)).commit(
            work(journal), HeldFence(False), asyncio.Event()
        )
    assert journal == ["sink0 wrote"]


async def test_give_up_s_is_measured_on_the_injected_clock() -> None:
    # Waits on a FakeClock take no real time: measured on the real clock, the limit
    # would never be reached and the sink would be retried until it came back.
    journal: list[str] = []
    clock = FakeClock()
    limited = Backoff(initial_s=1.0, max_s=1.0, give_up_s=5.0)
    down = committer(journal, sinks(journal, 1000), clock, backoff=limited)
    with pytest.raises(SinkUnavailableError):
        await down.commit(work(journal), HeldFence(), asyncio.Event())
    assert clock.now_s() == 6.0  # failures at 0, 1, ... 5 s are retried; the one at 6 s is not
    assert down.stats.sink_retries == 6
    assert not saved_or_acked(journal)


async def test_a_sink_back_within_give_up_s_is_not_given_up() -> None:
    journal: list[str] = []
    clock = FakeClock()
    limited = Backoff(initial_s=1.0, max_s=1.0, give_up_s=5.0)
    await committer(journal, sinks(journal, 5), clock, backoff=limited).commit(
        work(journal), HeldFence(), asyncio.Event()
    )
    assert clock.now_s() == 5.0
    assert journal[-2:] == ["acked 1", "acked 2 (confirmed)"]


def test_backoff_doubles_up_to_its_limit() -> None:
    delays = Backoff(initial_s=0.1, max_s=0.5).delays_s()
    assert [round(next(delays), 3) for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
