"""Command-line options of the NATS injector, added to Locust's own.

Locust sends a master's custom options to its workers with every spawn message, so
they are given once, on the master (or the single process). The NATS URL is Locust's
``--host`` (``-H nats://…``); without it each process uses ``SMART_METER_NATS_URL``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from inject.loadtest.meters import new_run_prefix

_GROUP = "Meter readings over NATS JetStream (inject.loadtest)"


@dataclass(frozen=True)
class InjectorOptions:
    """What every Locust user of a run sends, and how fast."""

    meters_per_user: int = 1000
    batch_size: int = 100
    interval_s: int = 1800
    intervals: int = 0
    speedup: float = 0.0
    meter_prefix: str = field(default_factory=new_run_prefix)
    fleet_seed: int = 42
    max_in_flight: int = 256
    ack_timeout_s: float = 5.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        counts = (self.meters_per_user, self.batch_size, self.max_in_flight, self.max_attempts)
        if min(counts) < 1:
            raise ValueError("meters per user, batch size, in flight, attempts must be >= 1")
        if self.intervals < 0 or self.speedup < 0:
            raise ValueError("intervals and speed-up cannot be negative")

    @classmethod
    def from_parsed(cls, parsed: argparse.Namespace | None) -> InjectorOptions:
        """The options from Locust's parsed arguments; defaults where one is missing."""
        if parsed is None:
            return cls()
        values: dict[str, Any] = {
            f.name: getattr(parsed, f.name) for f in fields(cls) if hasattr(parsed, f.name)
        }
        return cls(**values)


def add_arguments(parser: Any) -> None:
    """Listener of ``events.init_command_line_parser``: the injector's options."""
    group = parser.add_argument_group(_GROUP)
    group.add_argument(
        "--meters-per-user",
        type=int,
        default=1000,
        help="meters each user (concentrator) owns; a message holds one partition's share of "
        "them (1000 meters / 16 partitions: ~62 readings), at most --batch-size",
    )
    group.add_argument(
        "--batch-size", type=int, default=100, help="readings per message at most; 1 = unbatched"
    )
    group.add_argument(
        "--interval-s", type=int, default=1800, choices=(60, 900, 1800), help="metering interval"
    )
    group.add_argument(
        "--intervals",
        type=int,
        default=0,
        help="intervals each user sends, then stops; the run ends when every user has stopped "
        "(0 = until --run-time)",
    )
    group.add_argument(
        "--speedup",
        type=float,
        default=0.0,
        help="simulated clock speed: 1 = real time, 60 = a minute per second, 0 = flat out",
    )
    group.add_argument(
        "--meter-prefix",
        default=new_run_prefix(),
        help="start of every meter id of this run (default: random, new for each run)",
    )
    group.add_argument("--fleet-seed", type=int, default=42, help="seed of the simulated fleets")
    group.add_argument(
        "--max-in-flight", type=int, default=256, help="unacknowledged publishes per process"
    )
    group.add_argument("--ack-timeout-s", type=float, default=5.0, help="wait for one ack")
    group.add_argument(
        "--max-attempts", type=int, default=5, help="attempts per message (same Nats-Msg-Id)"
    )
