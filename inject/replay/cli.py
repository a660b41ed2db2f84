"""``python -m inject.replay FILE``: replay a CSV file of meter readings into JetStream.

Exit status: 0 when the file was replayed (bad rows are counted in the report),
1 when ``--strict`` stopped at a bad row (one line on stderr: ``file:line: reason``),
2 when the file or the options cannot be used.

Times written without offset are read in the format's zone: UTC for the generic and
both LCL layouts (Low Carbon London files are GMT all year), Europe/Lisbon for ps2024,
Europe/Paris for UCI; ``--timezone`` overrides it for a file written in another zone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nats

from inject.replay.core import FormatOptions, ReplayError, ReplayReport, StrictStopError
from inject.replay.detect import AUTO, FORMATS, resolve_format
from inject.replay.progress import ReplayProgress
from inject.replay.reader import CsvReader
from inject.replay.runner import ReplayConfig, replay_file
from smart_meter.publisher import ReadingPublisher
from smart_meter.settings import ConnectionSettings, checked_connections, nats_connect_options
from smart_meter.streams import ensure_readings_streams
from smart_meter.subjects import READINGS_PREFIX, READINGS_STREAM, ReadingsDestination

DEFAULT_SPEEDUP = 60.0
DEFAULT_BATCH_SIZE = 500


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown time zone {name!r}") from None


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inject.replay", description=__doc__)
    parser.add_argument("file", type=Path, help="CSV file to replay (streamed, row by row)")
    parser.add_argument("--format", default=AUTO, choices=[AUTO, *FORMATS], help="default: auto")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speedup",
        type=_positive,
        default=DEFAULT_SPEEDUP,
        help=f"event time runs this many times faster than real time (default {DEFAULT_SPEEDUP:g})",
    )
    pace.add_argument("--fast", action="store_true", help="no pacing: as fast as possible")
    parser.add_argument("--strict", action="store_true", help="stop at the first bad row")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="readings per message"
    )
    parser.add_argument("--meter-id", help="meter id for a single-meter file (UCI: UCI-1)")
    parser.add_argument("--meter-prefix", default="", help="put before every meter id")
    parser.add_argument(
        "--timezone",
        type=_zone,
        help="zone of times written without offset, instead of the format's own "
        "(LCL and generic: UTC); e.g. Europe/London for London wall-clock times",
    )
    parser.add_argument("--nats-url", help="default: SMART_METER_NATS_URL or nats://127.0.0.1:4222")
    parser.add_argument(
        "--stream", default=READINGS_STREAM, help="JetStream stream (created if missing)"
    )
    parser.add_argument(
        "--subject-prefix", default=READINGS_PREFIX, help="readings go to <prefix>.<partition>"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _config(args: argparse.Namespace) -> ReplayConfig:
    return ReplayConfig(speedup=None if args.fast else args.speedup, strict=args.strict)


def make_reader(args: argparse.Namespace) -> CsvReader:
    """The file's reader, in the chosen (or detected) format, with the options of ``args``."""
    options = FormatOptions(args.meter_id, args.meter_prefix, args.timezone)
    return CsvReader(args.file, resolve_format(args.file, args.format), options)


async def replay_to_nats(args: argparse.Namespace, settings: ConnectionSettings) -> ReplayReport:
    """Connect, make sure the readings stream exists, replay, and close."""
    reader = make_reader(args)
    url = args.nats_url or settings.nats_url
    nc = await nats.connect(**nats_connect_options(url, settings.nats_credentials()))
    try:
        destination = ReadingsDestination(args.stream, args.subject_prefix)
        await ensure_readings_streams(nc.jetstream(), destination=destination)
        publisher = ReadingPublisher(
            nc, settings.partitions, batch_size=args.batch_size, destination=destination
        )
        if args.no_progress:
            return await replay_file(reader, publisher, _config(args))
        with ReplayProgress(args.file.name, reader.size_bytes) as progress:
            return await replay_file(reader, publisher, _config(args), progress=progress)
    finally:
        await nc.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(replay_to_nats(args, checked_connections()))
    except StrictStopError as stop:
        print(stop, file=sys.stderr)
        return 1
    except (ReplayError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0
