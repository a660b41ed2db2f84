"""Crash and resume, without servers: the same scenario run straight and with crashes.

A partition's messages go through :class:`BatchBuilder` in batches, and each batch is
"committed" in the app's order (sinks, meter states, checkpoint, ack) to in-memory
tables and an in-memory state store that encodes exactly as the real one. Hypothesis
picks the batch sizes and where the process dies: before the sinks, after them, after
saving only some meters, after the checkpoint but before the ack. After each crash a
fresh builder restores from the store and the messages come again from the ack floor.
The tables (readings, events, running totals) must end exactly as after the
uninterrupted run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_meter.codec import decode_message, encode_batch
from smart_meter.reading import Reading
from streaming_app.catalogue import natural_key
from streaming_app.rules.testing import faulty_stream
from streaming_app.runtime.batching import BatchBuilder, Built, Incoming
from streaming_app.runtime.state_store import (
    Checkpoint,
    PartitionState,
    SavedMeter,
    decode_meter,
    encode_meter,
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


@dataclass
class World:
    """What outlives a crash: the sink tables, the state store and the ack floor."""

    readings: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    events: dict[tuple[str, str, str, int], Any] = field(default_factory=dict)
    totals: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)
    meters: dict[str, bytes] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    ack_floor: int = 0

    def write_sinks(self, built: Built) -> None:
        for checked in built.batch.readings:
            if is_stored(checked):
                verdict = checked.verdict
                flags = (verdict.status, verdict.failed_rules, verdict.lateness)
                self.readings[(verdict.meter_id, verdict.ts_ms)] = flags
        for event in built.batch.events:
            self.events[natural_key(event)] = event
        for totals in latest_totals(built.batch.totals):
            self.totals[(totals.meter_id, totals.day)] = totals_values(totals)

    def save_meters(self, built: Built, only: int | None = None) -> None:
        seq = built.checkpoint.last_seq
        for meter_id, state in list(built.meter_states.items())[:only]:
            self.meters[meter_id] = encode_meter(meter_id, seq, state)

    def stored(self) -> PartitionState:
        saved = tuple(decode_meter(value) for value in self.meters.values())
        return PartitionState(self.checkpoint, saved)


def fresh_builder(world: World) -> BatchBuilder:
    builder = BatchBuilder(0, 1, prod_settings().validator())
    builder.restore(world.stored())
    return builder


def commit(world: World, builder: BatchBuilder, built: Built) -> None:
    world.write_sinks(built)
    world.save_meters(built)
    world.checkpoint = built.checkpoint
    world.ack_floor = built.checkpoint.last_seq
    builder.committed(built)


def straight_run(batch_size: int) -> World:
    world = World()
    builder = fresh_builder(world)
    for start in range(0, len(MESSAGES), batch_size):
        commit(world, builder, builder.build(MESSAGES[start : start + batch_size], 0))
    return world


REFERENCE = straight_run(batch_size=16)


def crash(world: World, built: Built, phase: int, kept: int) -> None:
    """Die somewhere in the middle of committing ``built``."""
    if phase >= 1:
        world.write_sinks(built)
    if phase == 2:
        world.save_meters(built, only=kept)
    if phase >= 3:
        world.save_meters(built)
        world.checkpoint = built.checkpoint


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_crashes_anywhere_in_the_commit_change_no_stored_row_or_event(data: st.DataObject) -> None:
    world = World()
    builder = fresh_builder(world)
    while world.ack_floor < len(MESSAGES):
        size = data.draw(st.integers(1, 40), label="batch size")
        batch = MESSAGES[world.ack_floor : world.ack_floor + size]
        again = data.draw(st.integers(0, 3), label="redelivered while in hand")
        batch = [*batch, *batch[:again]]  # their ack_wait ran out before the ack
        built = builder.build(batch, 0)
        phase = data.draw(st.sampled_from([None, None, None, 0, 1, 2, 3]), label="crash phase")
        if phase is None:
            commit(world, builder, built)
            continue
        crash(world, built, phase, data.draw(st.integers(0, len(built.meter_states))))
        builder = fresh_builder(world)
    assert world.readings == REFERENCE.readings
    assert world.events == REFERENCE.events
    assert world.totals == REFERENCE.totals


def test_batch_boundaries_change_no_stored_row_or_event() -> None:
    for batch_size in (1, 3, 50, len(MESSAGES)):
        world = straight_run(batch_size)
        assert world.readings == REFERENCE.readings
        assert world.events == REFERENCE.events
        assert world.totals == REFERENCE.totals


def test_the_scenario_ends_days_so_crashes_are_checked_against_final_totals() -> None:
    finals = [row for row in REFERENCE.totals.values() if row[-1]]
    assert len(finals) >= 2 * 4  # four meters, 120 half-hours: two days ended each
    assert len(REFERENCE.totals) - len(finals) == 4  # and each meter's day in progress


def test_a_meter_saved_past_the_checkpoint_skips_what_it_already_holds() -> None:
    world = World()
    builder = fresh_builder(world)
    built = builder.build(MESSAGES[:20], 0)
    crash(world, built, phase=2, kept=1)
    restored = fresh_builder(world)
    (ahead,) = world.stored().meters
    assert restored.recovery.committed_seq == 0
    assert restored.recovery.ahead == {ahead.meter_id: 20}
    again = restored.build(MESSAGES[:20], 0)
    assert ahead.meter_id not in {c.verdict.meter_id for c in again.batch.readings}


def test_messages_up_to_the_checkpoint_are_skipped_whole() -> None:
    world = World()
    builder = fresh_builder(world)
    crash(world, builder.build(MESSAGES[:10], 0), phase=3, kept=0)
    again = fresh_builder(world).build(MESSAGES[:12], 0)
    assert {c.reading.key for c in again.batch.readings} <= {
        r.key for m in MESSAGES[10:12] for r in _readings(m)
    }


def test_a_message_redelivered_while_still_in_hand_is_validated_once() -> None:
    builder = fresh_builder(World())
    first = builder.build(MESSAGES[:10], 0)
    again = builder.build([*MESSAGES[5:10], *MESSAGES[10:12], MESSAGES[11]], 0)
    assert len(again.batch.readings) == sum(len(_readings(m)) for m in MESSAGES[10:12])
    assert first.checkpoint.last_seq == 10 and again.checkpoint.last_seq == 12


def _readings(message: Incoming) -> list[Reading]:
    return list(decode_message(message.data).readings)


def test_saved_meter_envelope_round_trips() -> None:
    state = b'{"v":1,"meter_id":"M:1","last_event_ms":5,"rules":{}}'
    assert decode_meter(encode_meter("M:1", 42, state)) == SavedMeter("M:1", 42, state)
