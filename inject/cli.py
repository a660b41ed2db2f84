"""``python -m inject``: run the fleet through the fault injector and publish to JetStream.

Example::

    python -m inject --meters 1000 --interval-s 1800 --intervals 48 --fast \\
        --faults default --ground-truth faults.jsonl --batch-size 100

Replica ``i`` of ``R`` owns meters ``i::R``; start one process per replica with the same
seed and start time. In a Swarm service, ``--task-slot`` (or ``SMART_METER_INJECT_TASK_SLOT``
set to ``{{.Task.Slot}}``) makes slot ``s`` replica ``s-1``. Wrong options end with one
line on stderr and exit status 2; a NATS server that cannot be reached ends with one line
and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from inject.faults import FaultConfig, ProfileName
from inject.fleet import FleetConfig
from inject.grid import GridStressConfig
from inject.run import InjectOptions, InjectSummary, inject_to_nats
from smart_meter.cli_args import (
    OneLineParser,
    non_negative_int,
    positive_float,
    positive_int,
    utc_time,
    whole_int,
)
from smart_meter.settings import checked_connections
from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM, ReadingsDestination

PROG = "python -m inject"
INTERVALS_S = (60, 900, 1800)
TASK_SLOT_ENV = "SMART_METER_INJECT_TASK_SLOT"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None)
    add = parser.add_argument
    add("--meters", type=positive_int, default=1000, help="meters in the whole fleet")
    add("--interval-s", type=positive_int, default=1800, help="60, 900 or 1800")
    add("--intervals", type=positive_int, default=48, help="intervals to simulate")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--speedup", type=positive_float, default=1.0, help="x real time")
    pace.add_argument("--fast", action="store_true", help="as fast as possible, no waiting")
    add("--replica", type=non_negative_int, default=None, help="this replica, 0..replicas-1")
    add(
        "--task-slot",
        type=positive_int,
        default=None,
        help=f"Swarm task slot s of --replicas: replica s-1 (default: ${TASK_SLOT_ENV})",
    )
    add("--replicas", type=positive_int, default=1, help="injector replicas in all")
    add("--seed", type=whole_int, default=42, help="same seed, same fleet and faults")
    add("--faults", choices=("default", "none", "all"), default="default", help="fault profile")
    add("--ground-truth", type=Path, default=None, help="write injected faults here (JSONL)")
    add("--batch-size", type=positive_int, default=100, help="readings per message")
    add("--max-in-flight", type=positive_int, default=256, help="unacknowledged publishes")
    add("--meters-per-transformer", type=positive_int, default=50, help="fleet layout")
    add("--grid-stress", action="store_true", help="cold spells and weak transformers")
    add("--start", type=utc_time, default=None, help="first event time (default: now)")
    add("--nats-url", default=None, help="default: SMART_METER_NATS_URL or the local stack")
    add("--stream", default=READINGS_STREAM, help="JetStream stream (created if missing)")
    add("--subject-prefix", default=READINGS_PREFIX, help="readings go to <prefix>.<partition>")
    return parser


def options_from(args: argparse.Namespace, now: datetime) -> InjectOptions:
    """Options from parsed arguments; ``ValueError`` with a readable message if inconsistent."""
    if args.interval_s not in INTERVALS_S:
        raise ValueError(f"--interval-s must be 60, 900 or 1800, got {args.interval_s}")
    replica = replica_of(args.replica, args.task_slot, os.environ.get(TASK_SLOT_ENV))
    if replica >= args.replicas:
        given = f"--replica {replica}" if args.replica is not None else f"task slot {replica + 1}"
        raise ValueError(f"{given} must be below --replicas {args.replicas}")
    if args.ground_truth is not None and not args.ground_truth.parent.is_dir():
        raise ValueError(f"--ground-truth: no such directory: {args.ground_truth.parent}")
    fleet = FleetConfig(
        meters=args.meters,
        interval_s=args.interval_s,
        meters_per_transformer=args.meters_per_transformer,
        seed=args.seed,
        replica=replica,
        replicas=args.replicas,
        grid_stress=GridStressConfig() if args.grid_stress else None,
    )
    settings = checked_connections()
    profile: ProfileName = args.faults
    return InjectOptions(
        fleet=fleet,
        faults=FaultConfig.profile(profile),
        intervals=args.intervals,
        start=args.start or _floor(now, args.interval_s),
        speedup=None if args.fast else args.speedup,
        batch_size=args.batch_size,
        max_in_flight=args.max_in_flight,
        ground_truth=args.ground_truth,
        nats_url=args.nats_url or settings.nats_url,
        nats_credentials=settings.nats_credentials(),
        partitions=settings.partitions,
        destination=ReadingsDestination(args.stream, args.subject_prefix),
    )


def replica_of(replica: int | None, task_slot: int | None, slot_env: str | None) -> int:
    """The 0-based replica: ``--replica``, else a Swarm task slot (1-based) from
    ``--task-slot`` or the environment, else 0; both options at once is an error."""
    if replica is not None and task_slot is not None:
        raise ValueError("give --replica or a task slot, not both")
    if replica is not None:
        return replica
    if task_slot is None and slot_env:
        try:
            task_slot = int(slot_env)
        except ValueError:
            raise ValueError(f"{TASK_SLOT_ENV} must be a whole number, got {slot_env!r}") from None
        if task_slot < 1:
            raise ValueError(f"{TASK_SLOT_ENV} must be at least 1, got {task_slot}")
    return 0 if task_slot is None else task_slot - 1


def _floor(when: datetime, interval_s: int) -> datetime:
    epoch_s = int(when.timestamp())
    return datetime.fromtimestamp(epoch_s - epoch_s % interval_s, UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        options = options_from(args, now=datetime.now(UTC))
    except ValueError as error:
        parser.error(str(error).splitlines()[0])
    try:
        summary = asyncio.run(inject_to_nats(options))
    except ConnectionError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    print_summary(summary)
    return 0


def print_summary(summary: InjectSummary) -> None:
    for line in summary.lines():
        print(line)
