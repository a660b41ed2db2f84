"""Crash and resume, without servers: the same scenario run straight and with crashes.

A partition's messages go through :class:`BatchBuilder` in batches, and each batch goes
through the production :class:`Committer` to the in-memory fakes of
:mod:`streaming_app.runtime.testing`: three sinks (readings, events, totals), a state
store that encodes exactly as the real one, and messages that record their acks.
Hypothesis picks the batch sizes, the messages redelivered while in hand, sink outages,
and where the process dies: while the sinks write, after them, after some meter states,
after the checkpoint before any ack, or after some acks. After each crash a fresh
builder restores from the store and the messages come again from the ack floor. The
sink tables (readings, events, running totals) must end exactly as after the
uninterrupted run.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_meter.codec import decode_message, encode_batch
from smart_meter.reading import Reading
from streaming_app.catalogue import natural_key
from streaming_app.rules.testing import faulty_stream
from streaming_app.runtime.batching import BatchBuilder, Built, Incoming
from streaming_app.runtime.commit import Backoff, Commit, Committer
from streaming_app.runtime.state_store import (
    PartitionState,
    SavedMeter,
    decode_meter,
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
from streaming_app.sinks.cassandra_readings import is_stored
from streaming_app.sinks.cassandra_totals import latest_totals, totals_values
from streaming_app.validation import prod_settings


def messages(seed: int = 3) -> list[Incoming]:
    """The faulty stream of a few meters, one to four readings per message."""
    rng = random.Random(seed)
    readings = faulty_stream(seed=seed, meters=4, intervals=120)
    out: list[Incoming] = []
    while readings:
        size = rng.randint(1, 4)
        chunk, readings = readings[:size], readings[size:]
        out.append(Incoming(encode_batch(chunk), "meter.readings.0", len(out) + 1))
    return out


MESSAGES = messages()
SETTINGS = prod_settings()


@dataclass(frozen=True)
class Tables:
    """What the sinks' tables hold: the last upsert of each natural key."""

    readings: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    events: dict[tuple[str, str, str, int], Any] = field(default_factory=dict)
    totals: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class World:
    """What outlives a crash: the sinks, the state store and the ack floor."""

    readings: MemorySink = field(default_factory=lambda: MemorySink("readings"))
    events: MemorySink = field(default_factory=lambda: MemorySink("events"))
    totals: MemorySink = field(default_factory=lambda: MemorySink("totals"))
    store: MemoryStateStore = field(default_factory=MemoryStateStore)
    clock: FakeClock = field(default_factory=FakeClock)
    ack_floor: int = 0

    @property
    def sinks(self) -> tuple[MemorySink, MemorySink, MemorySink]:
        return (self.readings, self.events, self.totals)

    def committer(self) -> Committer:
        return Committer(self.sinks, self.store, Backoff(0.1, 1.0), clock=self.clock)

    def tables(self) -> Tables:
        tables = Tables()
        for checked in (c for b in self.readings.batches for c in b.readings if is_stored(c)):
            verdict = checked.verdict
            flags = (verdict.status, verdict.failed_rules, verdict.lateness)
            tables.readings[(verdict.meter_id, verdict.ts_ms)] = flags
        for event in (e for batch in self.events.batches for e in batch.events):
            tables.events[natural_key(event)] = event
        for totals in (t for b in self.totals.batches for t in latest_totals(b.totals)):
            tables.totals[(totals.meter_id, totals.day)] = totals_values(totals)
        return tables


async def fresh_builder(world: World) -> BatchBuilder:
    """A restarted worker's builder: restored from what the store holds."""
    builder = BatchBuilder(0, 1, SETTINGS.validator())
    await builder.restore(await world.store.load(0))
    return builder


def fake_messages(batch: Sequence[Incoming]) -> list[FakeMessage]:
    return [FakeMessage(message.stream_seq) for message in batch]


async def commit(
    world: World, builder: BatchBuilder, built: Built, messages: Sequence[FakeMessage]
) -> None:
    """Commit as a worker does; a crash leaves the ack floor after the acks that went out."""
    work = Commit(built.batch, messages, built.meter_states, built.evicted, built.checkpoint)
    try:
        await world.committer().commit(work, HeldFence(), asyncio.Event())
    finally:
        world.ack_floor = ack_floor(world.ack_floor, messages)
    builder.committed(built)


def ack_floor(floor: int, messages: Sequence[FakeMessage]) -> int:
    """The newest stream sequence below which every message is acked (acks go in order)."""
    for message in messages:
        if not message.acked:
            break
        floor = max(floor, message.stream_seq)
    return floor


async def straight_run(batch_size: int) -> World:
    world = World()
    builder = await fresh_builder(world)
    for start in range(0, len(MESSAGES), batch_size):
        batch = MESSAGES[start : start + batch_size]
        await commit(world, builder, await builder.build(batch, 0), fake_messages(batch))
    return world


@functools.cache
def reference() -> Tables:
    return asyncio.run(straight_run(batch_size=16)).tables()


def arm_failure(
    data: st.DataObject, world: World, built: Built, messages: list[FakeMessage]
) -> None:
    """Maybe make the coming commit crash at one step, or meet a sink that is down."""
    steps = [None, None, None, "outage", "sinks", "store", "acks"]
    step = data.draw(st.sampled_from(steps), label="failure")
    if step == "outage":  # down for two writes: the committer backs off on its clock
        data.draw(st.sampled_from(world.sinks), label="sink down").transient_failures = 2
    elif step == "sinks":  # those sinks die mid-write, the others write
        for sink in data.draw(st.sets(st.sampled_from(world.sinks), min_size=1), label="sinks"):
            sink.crash_after = 0
    elif step == "store":  # 0: right after the sinks; all of them: before the checkpoint
        meters = st.integers(0, len(built.meter_states))
        world.store.crash_after_meters = data.draw(meters, label="meter states saved")
    elif step == "acks":  # 0: after the checkpoint, before any ack
        acked = data.draw(st.integers(0, len(messages) - 1), label="acks sent")
        messages[acked].crash_on_ack = True


async def run_with_crashes(data: st.DataObject) -> World:
    world = World()
    builder = await fresh_builder(world)
    while world.ack_floor < len(MESSAGES):
        size = data.draw(st.integers(1, 40), label="batch size")
        batch = MESSAGES[world.ack_floor : world.ack_floor + size]
        again = data.draw(st.integers(0, 3), label="redelivered while in hand")
        batch = [*batch, *batch[:again]]  # their ack_wait ran out before the ack
        built = await builder.build(batch, 0)
        acks = fake_messages(batch)
        arm_failure(data, world, built, acks)
        try:
            await commit(world, builder, built, acks)
        except Crash:
            builder = await fresh_builder(world)
    return world


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_crashes_anywhere_in_the_commit_change_no_stored_row_or_event(data: st.DataObject) -> None:
    assert asyncio.run(run_with_crashes(data)).tables() == reference()


def test_batch_boundaries_change_no_stored_row_or_event() -> None:
    for batch_size in (1, 3, 50, len(MESSAGES)):
        assert asyncio.run(straight_run(batch_size)).tables() == reference()


def test_the_scenario_ends_days_so_crashes_are_checked_against_final_totals() -> None:
    totals = reference().totals
    finals = [row for row in totals.values() if row[-1]]
    assert len(finals) >= 2 * 4  # four meters, 120 half-hours: two days ended each
    assert len(totals) - len(finals) == 4  # and each meter's day in progress


async def crashed_after_meters(kept: int, batch: Sequence[Incoming]) -> World:
    """A world whose first commit of ``batch`` died after ``kept`` meter states."""
    world = World()
    builder = await fresh_builder(world)
    world.store.crash_after_meters = kept
    with pytest.raises(Crash):
        await commit(world, builder, await builder.build(batch, 0), fake_messages(batch))
    return world


async def test_a_crash_while_the_sinks_write_saves_and_acks_nothing() -> None:
    world = World()
    builder = await fresh_builder(world)
    world.events.crash_after = 0
    acks = fake_messages(MESSAGES[:5])
    with pytest.raises(Crash):
        await commit(world, builder, await builder.build(MESSAGES[:5], 0), acks)
    assert [len(sink.batches) for sink in world.sinks] == [1, 0, 1]
    assert await world.store.load(0) == PartitionState(None, ())
    assert world.ack_floor == 0 and not any(message.acked for message in acks)


async def test_a_meter_saved_past_the_checkpoint_skips_what_it_already_holds() -> None:
    world = await crashed_after_meters(1, MESSAGES[:20])
    restored = await fresh_builder(world)
    (ahead,) = (await world.store.load(0)).meters
    assert restored.recovery.committed_seq == 0
    assert restored.recovery.ahead == {ahead.meter_id: 20}
    again = await restored.build(MESSAGES[:20], 0)
    assert ahead.meter_id not in {c.verdict.meter_id for c in again.batch.readings}


async def test_messages_up_to_the_checkpoint_are_skipped_whole() -> None:
    world = World()
    builder = await fresh_builder(world)
    acks = fake_messages(MESSAGES[:10])
    acks[0].crash_on_ack = True  # the checkpoint is saved, no ack went out
    with pytest.raises(Crash):
        await commit(world, builder, await builder.build(MESSAGES[:10], 0), acks)
    assert world.ack_floor == 0
    again = await (await fresh_builder(world)).build(MESSAGES[:12], 0)
    assert {c.reading.key for c in again.batch.readings} <= {
        r.key for m in MESSAGES[10:12] for r in _readings(m)
    }


async def test_a_message_redelivered_while_still_in_hand_is_validated_once() -> None:
    builder = await fresh_builder(World())
    first = await builder.build(MESSAGES[:10], 0)
    again = await builder.build([*MESSAGES[5:10], *MESSAGES[10:12], MESSAGES[11]], 0)
    assert len(again.batch.readings) == sum(len(_readings(m)) for m in MESSAGES[10:12])
    assert first.checkpoint.last_seq == 10 and again.checkpoint.last_seq == 12


def _readings(message: Incoming) -> list[Reading]:
    return list(decode_message(message.data).readings)


def test_saved_meter_envelope_round_trips() -> None:
    state = b'{"v":1,"meter_id":"M:1","last_event_ms":5,"rules":{}}'
    assert decode_meter(encode_meter("M:1", 42, state)) == SavedMeter("M:1", 42, state)
