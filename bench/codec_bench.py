"""Encode/decode speed of the reading message, single and batched.

    python -m bench.codec_bench [--readings N]

Prints readings/s for each operation with the machine it ran on. Figures go into
the README by hand, with this command, so they are always reproducible.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

from inject.fleet import Fleet, FleetConfig
from smart_meter.codec import decode_message, encode_batch, encode_reading
from smart_meter.reading import Reading


def rate(label: str, count: int, work: Callable[[], object], repeats: int = 3) -> float:
    """Best of ``repeats`` runs, in readings per second."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    per_second = count / best
    print(f"{label:<44} {per_second:>12,.0f} readings/s")
    return per_second


def fleet_readings(count: int) -> list[Reading]:
    fleet = Fleet(FleetConfig(meters=1000, interval_s=1800), datetime(2024, 1, 1, tzinfo=UTC))
    readings: list[Reading] = []
    while len(readings) < count:
        readings.extend(fleet.tick()[1])
    return readings[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    readings = fleet_readings(args.readings)
    singles = [encode_reading(r) for r in readings]
    size = args.batch_size
    batches = [encode_batch(readings[i : i + size]) for i in range(0, len(readings), size)]
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"single message {sum(map(len, singles)) / len(singles):.0f} B; batch of {size} "
        f"{sum(map(len, batches)) / len(batches) / size:.0f} B per reading"
    )
    n = len(readings)
    rate("encode, one reading per message", n, lambda: [encode_reading(r) for r in readings])
    rate(
        "decode+validate, one reading per message", n, lambda: [decode_message(m) for m in singles]
    )
    rate(
        f"encode, batches of {size}",
        n,
        lambda: [encode_batch(readings[i : i + size]) for i in range(0, n, size)],
    )
    rate(f"decode+validate, batches of {size}", n, lambda: [decode_message(b) for b in batches])


if __name__ == "__main__":
    main()
