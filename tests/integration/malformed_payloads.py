"""Generated malformed reading messages: random bytes and JSON, mutated readings, the
injector's malformed kinds, broken batch envelopes, and batches with some bad entries.

Deterministic for a seed. Every whole-message payload is checked to be refused by
:func:`smart_meter.codec.decode_message`, so a generator that happens to produce a
valid reading cannot slip one into the count.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from inject.faults.malformed import MAKERS
from smart_meter.codec import ReadingError, decode_message, encode_reading
from smart_meter.reading import Reading

READING_FIELDS = ("v", "meter_id", "ts", "seq", "import_wh", "voltage_v", "current_a", "grid")
ODD_TEXT = "\x00\x01\r\n\t é中🙂\\\"'<>{}[]\u2028\ufeff"


def dump(value: Any) -> bytes:
    """JSON with big integers and raw unicode (orjson refuses integers past 64 bits)."""
    return json.dumps(value, ensure_ascii=False).encode()


def random_text(rng: random.Random, longest: int = 24) -> str:
    alphabet = "abcXYZ019_-.:" + ODD_TEXT
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, longest)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, nested a little, with awkward strings and numbers."""
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, -(2**70), 1e308, -0.0, 3.14, rng.randrange(-999, 999)])
    if kind in (3, 4):
        return random_text(rng)
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    keys = [*READING_FIELDS, "readings", "concentrator_id", random_text(rng, 8)]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


def random_bytes(rng: random.Random, reading: Reading) -> bytes:
    return rng.randbytes(rng.randrange(0, 200))


def any_json(rng: random.Random, reading: Reading) -> bytes:
    return dump(random_json(rng))


def mutated_reading(rng: random.Random, reading: Reading) -> bytes:
    body = orjson.loads(encode_reading(reading))
    for _ in range(rng.randrange(1, 3)):
        body[rng.choice([*READING_FIELDS, random_text(rng, 8)])] = random_json(rng)
    return dump(body)


def broken_envelope(rng: random.Random, reading: Reading) -> bytes:
    entry = orjson.loads(encode_reading(reading))
    entry.pop("v")
    body: dict[str, Any] = {"v": 1, "readings": rng.choice([[], {}, "x", None, entry])}
    if rng.random() < 0.3:
        body = {"v": 1, "readings": [entry], random_text(rng, 6) or "extra": 1}
    return dump(body)


def injector_kind(rng: random.Random, reading: Reading) -> bytes:
    kinds = sorted(MAKERS)
    payload, _ = MAKERS[rng.choice(kinds)](reading, np.random.default_rng(rng.randrange(2**32)))
    return payload


Maker = Callable[[random.Random, Reading], bytes]
GENERATORS: tuple[Maker, ...] = (
    random_bytes,
    any_json,
    mutated_reading,
    broken_envelope,
    injector_kind,
)


def refused(payload: bytes) -> bool:
    """Whether the codec refuses the whole message."""
    try:
        decode_message(payload)
    except ReadingError:
        return True
    return False


def malformed_message(rng: random.Random, reading: Reading) -> bytes:
    """One payload the codec refuses as a whole."""
    while True:
        payload = rng.choice(GENERATORS)(rng, reading)
        if refused(payload):
            return payload


def with_bad_entries(rng: random.Random, batch: bytes) -> tuple[bytes, list[int]]:
    """A valid batch message with 1-3 invalid entries inserted; their indexes."""
    while True:
        body = orjson.loads(batch)
        entries: list[Any] = body["readings"]
        for _ in range(rng.randrange(1, 4)):
            junk = rng.choice([random_json(rng), {"meter_id": "M1"}, "junk"])
            entries.insert(rng.randrange(len(entries) + 1), junk)
        payload = dump(body)
        try:
            decoded = decode_message(payload)
        except ReadingError:
            continue  # e.g. a number too big for the parser: the whole message is refused
        return payload, sorted(r.error.index for r in decoded.rejected if r.error.index is not None)
