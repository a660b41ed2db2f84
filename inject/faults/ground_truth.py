"""The ground truth: every injected fault as one JSON line, written as it happens.

One line per fault and meter::

    {"kind": "missing", "meter_id": "M0000007", "start": "2024-01-01T10:00:00Z",
     "end": "2024-01-01T11:30:00Z", "details": {"intervals": 4}}

``start`` and ``end`` are the event times the affected readings carry (for faults that
drop readings, the times they would have carried), both inclusive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from inject.faults.kinds import FaultKind


@dataclass(frozen=True)
class FaultRecord:
    """One injected fault on one meter, from ``start`` to ``end`` inclusive."""

    kind: FaultKind
    meter_id: str
    start: datetime
    end: datetime
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        body = {
            "kind": self.kind.value,
            "meter_id": self.meter_id,
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
            "details": self.details,
        }
        return orjson.dumps(body, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)

    @classmethod
    def from_json(cls, line: bytes | str) -> FaultRecord:
        body = orjson.loads(line)
        return cls(
            kind=FaultKind(body["kind"]),
            meter_id=body["meter_id"],
            start=datetime.fromisoformat(body["start"]),
            end=datetime.fromisoformat(body["end"]),
            details=body["details"],
        )


def iso_utc(when: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (milliseconds only when there are some)."""
    utc = when.astimezone(UTC)
    spec = "milliseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


RecordSink = Callable[[FaultRecord], None]


class FaultLog:
    """Counts every fault by kind and hands each record to a sink (the writer, or a list)."""

    def __init__(self, sink: RecordSink | None = None) -> None:
        self.sink = sink
        self.counts: Counter[FaultKind] = Counter()

    def record(
        self,
        kind: FaultKind,
        meter_id: str,
        start: datetime,
        end: datetime,
        details: dict[str, Any],
    ) -> None:
        self.counts[kind] += 1
        if self.sink is not None:
            self.sink(FaultRecord(kind, meter_id, start, end, details))


class GroundTruthWriter:
    """Appends fault records to a JSON-lines file, one line per record, never buffering all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = path.open("wb")
        self.counts: Counter[FaultKind] = Counter()

    def write(self, record: FaultRecord) -> None:
        self._file.write(record.to_json() + b"\n")
        self.counts[record.kind] += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> GroundTruthWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def read_ground_truth(path: Path) -> Iterator[FaultRecord]:
    """The records of a ground-truth file, one at a time."""
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                yield FaultRecord.from_json(line)
