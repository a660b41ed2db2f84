"""CSV replay of real meter data into NATS JetStream (``python -m inject.replay FILE``).

One module per format (:mod:`generic`, :mod:`lcl`, :mod:`ps2024`, :mod:`uci`), the
shared field parsing in :mod:`fields`, streaming in :mod:`reader`, event-time pacing
in :mod:`pacing`, the replay loop in :mod:`runner`, and the command line in :mod:`cli`.
"""

from inject.replay.core import (
    BadRowError,
    FormatOptions,
    ReplayError,
    ReplayReport,
    StrictStopError,
)
from inject.replay.detect import FORMATS, resolve_format
from inject.replay.reader import CsvReader, RowOutcome
from inject.replay.runner import ReplayConfig, replay_file

__all__ = [
    "FORMATS",
    "BadRowError",
    "CsvReader",
    "FormatOptions",
    "ReplayConfig",
    "ReplayError",
    "ReplayReport",
    "RowOutcome",
    "StrictStopError",
    "replay_file",
    "resolve_format",
]
