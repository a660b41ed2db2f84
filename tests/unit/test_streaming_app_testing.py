"""The in-memory fakes of :mod:`streaming_app.runtime.testing` behave as documented."""

from __future__ import annotations

import asyncio

import pytest

from streaming_app.processed import ProcessedBatch
from streaming_app.runtime.state_store import (
    Checkpoint,
    PartitionState,
    SavedMeter,
    encode_meter,
)
from streaming_app.runtime.testing import (
    Crash,
    FakeClock,
    FakeMessage,
    HeldFence,
    MemorySink,
    MemoryStateStore,
)
from streaming_app.sinks.base import TransientSinkError

STATE = b'{"v":1,"meter_id":"M:1","last_event_ms":5,"rules":{}}'


async def test_fake_clock_ends_waits_in_the_order_of_their_deadlines() -> None:
    clock, ended = FakeClock(), list[tuple[str, float]]()

    async def sleep(name: str, seconds: float) -> None:
        await clock.wait(asyncio.Event(), seconds)
        ended.append((name, clock.now_s()))

    await asyncio.gather(sleep("long", 10.0), sleep("short", 0.5), sleep("mid", 2.0))
    assert ended == [("short", 0.5), ("mid", 2.0), ("long", 10.0)]


async def test_fake_clock_wait_returns_as_soon_as_its_event_is_set() -> None:
    clock, event = FakeClock(start_s=100.0), asyncio.Event()

    async def set_after(seconds: float) -> None:
        await clock.wait(asyncio.Event(), seconds)
        event.set()

    setter = asyncio.create_task(set_after(1.0))
    assert await clock.wait(event, 5.0)
    assert clock.now_s() == 101.0
    await setter


async def test_fake_clock_times_out_without_the_event() -> None:
    clock = FakeClock()
    assert not await clock.wait(asyncio.Event(), 3.0)
    assert clock.now_s() == 3.0


async def test_fake_clock_stands_still_unless_waited_on() -> None:
    clock, seen = FakeClock(start_s=7.0), list[float]()
    for _ in range(3):
        seen.append(clock.now_s())
        await asyncio.sleep(0)
    assert seen == [7.0, 7.0, 7.0]


async def test_memory_state_store_loads_what_it_saved_encoded_as_the_real_store() -> None:
    store = MemoryStateStore()
    await store.save(2, {"M:1": STATE, "M2": STATE}, (), Checkpoint(7, 100))
    await store.save(2, {}, ("M2",), Checkpoint(9, 200))
    assert store.meters[2] == {"M:1": encode_meter("M:1", 7, STATE)}
    assert await store.load(2) == PartitionState(Checkpoint(9, 200), (SavedMeter("M:1", 7, STATE),))
    assert await store.load(3) == PartitionState(None, ())


async def test_memory_state_store_crashes_once_after_the_meters_it_was_told() -> None:
    store = MemoryStateStore()
    store.crash_after_meters = 1
    with pytest.raises(Crash):
        await store.save(0, {"M1": STATE, "M2": STATE}, (), Checkpoint(4, None))
    assert [m.meter_id for m in (await store.load(0)).meters] == ["M1"]
    assert (await store.load(0)).checkpoint is None
    await store.save(0, {"M2": STATE}, (), Checkpoint(4, None))
    assert (await store.load(0)).checkpoint == Checkpoint(4, None)


async def test_memory_sink_fails_transiently_then_keeps_each_batch() -> None:
    sink, batch = MemorySink("s", transient_failures=2), ProcessedBatch(partition=0, processed_ms=0)
    for _ in range(2):
        with pytest.raises(TransientSinkError):
            await sink.write(batch)
    await sink.write(batch)
    assert sink.batches == [batch]


async def test_memory_sink_crashes_once_after_the_writes_it_was_told() -> None:
    sink, batch = MemorySink("s", crash_after=1), ProcessedBatch(partition=0, processed_ms=0)
    await sink.write(batch)
    with pytest.raises(Crash):
        await sink.write(batch)
    await sink.write(batch)
    assert len(sink.batches) == 2


async def test_fake_message_that_crashes_on_ack_stays_unacked() -> None:
    journal: list[str] = []
    message = FakeMessage(3, crash_on_ack=True, journal=journal)
    await message.in_progress()
    with pytest.raises(Crash):
        await message.ack_sync()
    assert not message.acked
    await message.ack()
    assert message.acked
    assert journal == ["in progress 3", "acked 3"]


def test_held_fence_is_held_until_lost() -> None:
    fence = HeldFence()
    assert fence.held()
    fence.lose()
    assert not fence.held()
