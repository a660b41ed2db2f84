"""Pid records of the console's local replicas, and the wanted state of each service.

``<services_dir>/<service>/service.json`` holds the wanted replicas and options;
``replica-<i>.json`` holds one process: pid, start time, replica index, replica count
and argv. A process is ours only while its pid *and* start time match the record, so a
recycled pid is never signalled. The replica is read from the record, never from argv.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil


@dataclass(frozen=True)
class ReplicaRecord:
    """One replica process the console started."""

    pid: int
    create_time: float
    replica: int
    replicas: int
    argv: list[str]
    options: dict[str, object] = field(default_factory=dict)

    def process(self) -> psutil.Process | None:
        """The recorded process while it still runs; ``None`` otherwise."""
        try:
            process = psutil.Process(self.pid)
            same = abs(process.create_time() - self.create_time) < 0.01
            alive = process.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return None
        return process if same and alive else None


@dataclass(frozen=True)
class Wanted:
    """What the operator asked for a service."""

    replicas: int
    options: dict[str, object] = field(default_factory=dict)


class ServiceFolder:
    """The records and logs of one service."""

    def __init__(self, services_dir: Path, service: str) -> None:
        self.path = services_dir / service

    def log(self, replica: int) -> Path:
        return self.path / f"replica-{replica}.log"

    def _record_path(self, replica: int) -> Path:
        return self.path / f"replica-{replica}.json"

    def records(self) -> list[ReplicaRecord]:
        """Every replica record, by replica index; unreadable ones are skipped."""
        found = []
        for path in sorted(self.path.glob("replica-*.json")):
            try:
                found.append(ReplicaRecord(**json.loads(path.read_text())))
            except (OSError, ValueError, TypeError):
                continue
        return sorted(found, key=lambda record: record.replica)

    def save(self, record: ReplicaRecord) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self._record_path(record.replica).write_text(json.dumps(asdict(record)))

    def forget(self, replica: int) -> None:
        self._record_path(replica).unlink(missing_ok=True)

    def wanted(self) -> Wanted:
        try:
            return Wanted(**json.loads((self.path / "service.json").read_text()))
        except (OSError, ValueError, TypeError):
            return Wanted(0)

    def want(self, wanted: Wanted) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "service.json").write_text(json.dumps(asdict(wanted)))
