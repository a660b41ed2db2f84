"""Broken messages, built from a real reading so they look like what a meter might send.

Each maker returns the payload bytes and a short description of what is wrong with it.
Every payload is refused by :func:`smart_meter.codec.decode_message`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from inject.faults.kinds import FaultKind
from smart_meter.codec import encode_reading
from smart_meter.reading import Reading

Maker = Callable[[Reading, np.random.Generator], tuple[bytes, str]]


def _body(reading: Reading) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(encode_reading(reading))
    return body


def _dump(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def broken_json(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """The message cut short: a JSON object that never closes."""
    payload = encode_reading(reading)
    cut = int(rng.integers(1, len(payload) - 1))
    return payload[:cut], f"truncated at byte {cut} of {len(payload)}"


def missing_field(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """A required field left out."""
    body = _body(reading)
    name = str(rng.choice(["meter_id", "ts", "import_wh"]))
    del body[name]
    return _dump(body), f"{name} missing"


def wrong_type(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """A field of the wrong JSON type (and one no lenient parser could coerce)."""
    body = _body(reading)
    choices: dict[str, object] = {
        "import_wh": f"{body['import_wh']} Wh",
        "meter_id": int(rng.integers(1, 10**7)),
        "ts": [reading.ts.year, reading.ts.month, reading.ts.day],
        "voltage_v": str(body.get("voltage_v", [230.0])[0]),
    }
    name = str(rng.choice(sorted(choices)))
    body[name] = choices[name]
    return _dump(body), f"{name} as {type(choices[name]).__name__}"


def not_a_number(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """A measurement that is not a finite number (``"NaN"``: valid JSON, invalid value)."""
    body = _body(reading)
    name = str(rng.choice(["import_wh", "voltage_v"]))
    body[name] = ["NaN"] if name == "voltage_v" else "NaN"
    return _dump(body), f"{name} is NaN"


def absurd_value(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """A value no meter can measure: a huge or negative register, 5 kV, 900 °C, year 2150."""
    body = _body(reading)
    choices: dict[str, object] = {
        "import_wh": 1e15,
        "negative import_wh": -float(body["import_wh"]) - 1.0,
        "voltage_v": [5000.0],
        "temperature_c": 900.0,
        "ts": "2150-" + str(body["ts"])[5:],
    }
    label = str(rng.choice(sorted(choices)))
    body[label.rsplit(maxsplit=1)[-1]] = choices[label]
    return _dump(body), f"{label} = {choices[label]}"


def unknown_version(reading: Reading, rng: np.random.Generator) -> tuple[bytes, str]:
    """A wire version this build does not read."""
    body = _body(reading)
    body["v"] = int(rng.choice([0, 2, 99]))
    return _dump(body), f"wire version {body['v']}"


MAKERS: dict[FaultKind, Maker] = {
    FaultKind.MALFORMED_JSON: broken_json,
    FaultKind.MALFORMED_MISSING_FIELD: missing_field,
    FaultKind.MALFORMED_WRONG_TYPE: wrong_type,
    FaultKind.MALFORMED_NAN: not_a_number,
    FaultKind.MALFORMED_ABSURD_VALUE: absurd_value,
    FaultKind.MALFORMED_UNKNOWN_VERSION: unknown_version,
}
