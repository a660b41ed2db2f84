"""CPU seconds and memory of processes over a measured window: the app's replicas, and the
Cassandra and NATS servers found by the port they listen on (psutil, i.e. /proc)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import psutil


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (NaN once it has gone: a server
    restarted in the window has no meaningful figure)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return float("nan")
    return times.user + times.system


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (0 once it has gone)."""
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def listening_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` on this machine, if it can be seen."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for connection in connections:
        address = connection.laddr
        if connection.status == psutil.CONN_LISTEN and address and address.port == port:
            return connection.pid
    return None


@dataclass(frozen=True)
class Servers:
    """The server processes whose CPU the bench attributes to the pipeline."""

    cassandra: int | None
    nats: int | None

    @classmethod
    def find(cls, cassandra_port: int, nats_port: int) -> Servers:
        return cls(listening_pid(cassandra_port), listening_pid(nats_port))

    def pids(self) -> dict[str, int]:
        named = {"cassandra": self.cassandra, "nats": self.nats}
        return {name: pid for name, pid in named.items() if pid is not None}


@dataclass
class CpuWindow:
    """CPU seconds of named processes between :meth:`start` and :meth:`stop`, with the
    machine's 1-minute load average sampled meanwhile."""

    pids: Mapping[str, Sequence[int]]
    began: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    _t0: float = 0.0

    def _totals(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}

    def start(self) -> None:
        self.began = self._totals()
        self._t0 = time.monotonic()
        self.sample_load()

    def sample_load(self) -> None:
        self.loads.append(os.getloadavg()[0])

    def stop(self) -> dict[str, float]:
        now = self._totals()
        self.wall_s = time.monotonic() - self._t0
        self.sample_load()
        self.spent = {name: now[name] - self.began.get(name, float("nan")) for name in now}
        return self.spent

    @property
    def load(self) -> float:
        """Mean of the 1-minute load averages sampled in the window."""
        return sum(self.loads) / len(self.loads) if self.loads else float("nan")


def this_process() -> list[int]:
    return [os.getpid()]


def machine() -> dict[str, object]:
    """Cores, memory and the load averages now."""
    one, five, fifteen = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(one, 2), round(five, 2), round(fifteen, 2)],
    }


def all_alive(pids: Iterable[int]) -> bool:
    return all(psutil.pid_exists(pid) for pid in pids)


@dataclass
class CpuTrace:
    """CPU seconds of named processes sampled over time (wall clock), so that a window can
    start at a moment known only afterwards (a consumer's creation time on the server)."""

    pids: Mapping[str, Sequence[int]]
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def sample(self) -> dict[str, float]:
        totals = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}
        self.samples.append((time.time(), totals))
        self.loads.append(os.getloadavg()[0])
        return totals

    def at(self, when: float) -> dict[str, float]:
        """The last sample taken at or before ``when`` (the first if none was)."""
        before = [totals for at, totals in self.samples if at <= when]
        return before[-1] if before else self.samples[0][1]

    def spent_since(self, when: float) -> dict[str, float]:
        """CPU seconds from ``when`` to the last sample (NaN for a process that vanished)."""
        start, end = self.at(when), self.samples[-1][1]
        return {name: end[name] - start[name] for name in end}

    @property
    def load(self) -> float:
        return sum(self.loads) / len(self.loads) if self.loads else float("nan")
