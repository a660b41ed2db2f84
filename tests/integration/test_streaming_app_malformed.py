"""10,000 malformed messages among valid readings: every one dead-lettered with a reason
and the kind of error.

The app runs as a real process over a stream of this test's own. Valid batch messages of
a clean fleet are interleaved (per partition, order kept) with 10,000 generated
messages the codec refuses, and some valid batches carry extra invalid entries. Every
refused message, and every bad entry, must arrive on the dead-letter subject with its
original bytes, a reason and the codec's error kind; the app must not crash; the valid
readings must be stored with exactly the flags a validator gives them when it sees no
malformed input at all.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nats
import orjson
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from demo.launch import AppProcess
from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import ReadingError, decode_message
from smart_meter.reading import Reading
from smart_meter.settings import ConnectionSettings
from smart_meter.streams import DEAD_LETTER_STREAM, ensure_events_stream
from smart_meter.subjects import DEAD_LETTER_SUBJECT
from tests.integration.malformed_payloads import malformed_message, with_bad_entries
from tests.integration.streaming_app_readback import (
    drop_keyspace,
    expected_flags,
    snapshot,
)
from tests.integration.streaming_app_support import (
    PARTITIONS,
    START,
    Names,
    Outgoing,
    batch_messages,
    create_stream,
    delete_deployment,
    publish,
    remaining,
    wait_for,
)

pytestmark = pytest.mark.integration

MALFORMED = 10_000
METERS, INTERVALS = 200, 30
Key = tuple[str, int, str]  # subject, stream sequence, batch index ("-": whole message)
Letter = tuple[bytes, str, str]  # the bytes dead-lettered, the reason, the error kind


@dataclass
class Mixed:
    """The interleaved input and the dead letters it must produce."""

    messages: list[Outgoing] = field(default_factory=list)
    bad_entries: dict[int, list[int]] = field(default_factory=dict)  # message index -> entries
    malformed: set[int] = field(default_factory=set)  # message indexes refused whole


def valid_messages(seed: int) -> tuple[dict[int, list[Outgoing]], list[Reading]]:
    """A clean fleet's batch messages by partition, and all its readings."""
    fleet = Fleet(FleetConfig(meters=METERS, interval_s=60, seed=seed), START)
    valid: dict[int, list[Outgoing]] = defaultdict(list)
    every: list[Reading] = []
    for _, readings in fleet.run(INTERVALS):
        every.extend(readings)
        for message in batch_messages(readings, batch_size=5):
            valid[message.partition].append(message)
    return valid, every


def interleave(rng: random.Random, good: list[Outgoing], junk: list[Outgoing]) -> list[bool]:
    """Where the junk goes among the good messages: ``True`` marks a junk slot."""
    slots = set(rng.sample(range(len(good) + len(junk)), len(junk)))
    return [slot in slots for slot in range(len(good) + len(junk))]


def mixed_input(seed: int = 11) -> Mixed:
    rng = random.Random(seed)
    valid, readings = valid_messages(seed)
    junk: dict[int, list[Outgoing]] = defaultdict(list)
    for n in range(MALFORMED):
        payload = malformed_message(rng, rng.choice(readings))
        partition = rng.randrange(PARTITIONS)
        junk[partition].append(Outgoing(partition, payload, f"bad-{n}"))
    mixed = Mixed()
    for partition in range(PARTITIONS):
        good, bad = iter(valid[partition]), iter(junk[partition])
        for is_junk in interleave(rng, valid[partition], junk[partition]):
            if is_junk:
                mixed.malformed.add(len(mixed.messages))
                mixed.messages.append(next(bad))
                continue
            message = next(good)
            if rng.random() < 0.05:
                payload, indexes = with_bad_entries(rng, message.payload)
                mixed.bad_entries[len(mixed.messages)] = indexes
                message = Outgoing(partition, payload, message.msg_id)
            mixed.messages.append(message)
    return mixed


def error_kind(payload: bytes, index: str) -> str:
    """The codec's kind of error for a refused message (``index`` "-"), or batch entry."""
    if index != "-":
        payload = orjson.dumps({"v": 1, "readings": [orjson.loads(payload)]})
    try:
        [rejected] = decode_message(payload).rejected
    except ReadingError as error:
        return error.kind.value
    return rejected.error.kind.value


async def dead_letters(js: JetStreamContext, start_seq: int, prefix: str) -> dict[Key, Letter]:
    """Dead letters from ``start_seq`` on whose source subject is under ``prefix``."""
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq)
    sub = await js.pull_subscribe(DEAD_LETTER_SUBJECT, stream=DEAD_LETTER_STREAM, config=config)
    found: dict[Key, Letter] = {}
    while (await sub.consumer_info()).num_pending:
        for msg in await sub.fetch(1000, timeout=10):
            headers = msg.headers or {}
            subject = headers.get("Smart-Meter-Subject", "")
            if subject.startswith(prefix):
                index = headers["Nats-Msg-Id"].rsplit(":", 1)[1]
                key = (subject, int(headers["Smart-Meter-Stream-Seq"]), index)
                assert key not in found, f"dead-lettered twice: {key}"
                reason = headers.get("Smart-Meter-Reason", "")
                found[key] = (msg.data, reason, headers.get("Smart-Meter-Error-Kind", ""))
            await msg.ack()
    await sub.unsubscribe()
    return found


async def test_ten_thousand_malformed_messages_are_dead_lettered_and_valid_ones_unaffected(
    connections: ConnectionSettings, tmp_path: Path
) -> None:
    names = Names()
    app = names.app("junk")
    mixed = mixed_input()
    nc = await nats.connect(connections.nats_url)
    js = nc.jetstream()
    process = None
    try:
        await ensure_events_stream(js)
        first_dead_letter = (await js.stream_info(DEAD_LETTER_STREAM)).state.last_seq + 1
        await create_stream(js, names)
        seqs = await publish(js, names, mixed.messages)
        process = AppProcess(app.env(connections), tmp_path / "app.log")

        async def done() -> bool:
            assert process is not None and process.alive(), process and process.log_text()[-3000:]
            return await remaining(js, app) == 0

        await wait_for(done, 300, "every message acked")
        assert process.alive()
        assert process.terminate() == 0, process.log_text()[-3000:]
        assert "Traceback" not in process.log_text()
        found = await dead_letters(js, first_dead_letter, names.prefix)
        stored = await asyncio.to_thread(snapshot, connections, app.keyspace)
    finally:
        if process is not None and process.alive():
            process.kill()
        await js.delete_stream(names.stream)
        await delete_deployment(js, app)
        await nc.close()
        await asyncio.to_thread(drop_keyspace, connections, app.keyspace)

    position = {id(m): i for i, m in enumerate(mixed.messages)}
    wanted: dict[Key, bytes] = {}
    for partition, sent in seqs.items():
        for seq, message in sent:
            index = position[id(message)]
            if index in mixed.malformed:
                wanted[(names.subject(partition), seq, "-")] = message.payload
            for entry in mixed.bad_entries.get(index, []):
                raw = orjson.loads(message.payload)["readings"][entry]
                wanted[(names.subject(partition), seq, str(entry))] = orjson.dumps(raw)
    assert len(mixed.malformed) == MALFORMED
    assert set(found) == set(wanted)
    for key, payload in wanted.items():
        data, reason, kind = found[key]
        assert reason, key
        assert kind == error_kind(payload, key[2]), key
        assert data == payload, key
    assert stored.readings == await expected_flags(seqs)
