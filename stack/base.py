"""One local server process: install, configure, start, health-check, stop.

Every server of the local stack is a subclass of :class:`LocalService`. The base
class owns the life cycle that is the same for all of them: the state folder,
the pid record (pid + process start time, so a recycled pid is never killed),
port checks before start, waiting on health (never ``sleep N``), and stopping
the whole process group the project started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import psutil

from stack.errors import PortInUseError, StackError, UnhealthyError
from stack.settings import StackSettings


@dataclass(frozen=True)
class ServiceStatus:
    """What ``status`` prints for one service: one line."""

    name: str
    address: str
    healthy: bool
    detail: str
    pid: int | None = None

    def line(self) -> str:
        state = "healthy" if self.healthy else "NOT healthy"
        pid = f" pid={self.pid}" if self.pid else ""
        return f"{self.name:<10} {self.address:<22} {state}{pid}  {self.detail}".rstrip()


def port_is_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def port_is_free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file, or a note that it is empty."""
    if not path.exists():
        return f"(no log at {path})"
    content = path.read_text(errors="replace").splitlines()
    return "\n".join(content[-lines:]) or f"(empty log at {path})"


class LocalService(ABC):
    """A real server run as a child process of the project, on loopback."""

    name: ClassVar[str]
    start_timeout_s: ClassVar[float] = 120.0
    stop_timeout_s: ClassVar[float] = 60.0

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.host = settings.host

    # ---- what each server defines -------------------------------------------------
    @abstractmethod
    def ports(self) -> list[int]:
        """Every TCP port the server binds (the first is its client port)."""

    @abstractmethod
    def install(self) -> None:
        """Fetch what is missing into the cache folder; cheap when already there."""

    @abstractmethod
    def prepare(self) -> None:
        """Write configuration into :attr:`data_dir`; idempotent."""

    @abstractmethod
    def command(self) -> list[str]:
        """The argv that runs the server in the foreground."""

    @abstractmethod
    def check_health(self) -> str:
        """Run a real query; return a short detail (e.g. version) or raise."""

    def listening(self) -> bool:
        """True once the server accepts connections (default: on its first port)."""
        return port_is_open(self.host, self.ports()[0])

    def environment(self) -> dict[str, str]:
        """Environment of the server process (default: ours)."""
        return dict(os.environ)

    # ---- paths --------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"{self.host}:{self.ports()[0]}"

    @property
    def service_dir(self) -> Path:
        return self.settings.state_dir / self.name

    @property
    def data_dir(self) -> Path:
        return self.service_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.service_dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.service_dir / "pid.json"

    @property
    def install_dir(self) -> Path:
        return self.settings.cache_dir / self.name

    # ---- life cycle ---------------------------------------------------------------
    def running_process(self) -> psutil.Process | None:
        """The process this project recorded, if it is still that process."""
        try:
            record = json.loads(self.pid_file.read_text())
            process = psutil.Process(int(record["pid"]))
            same = abs(process.create_time() - float(record["create_time"])) < 0.01
            alive = process.status() != psutil.STATUS_ZOMBIE
        except (FileNotFoundError, ValueError, KeyError, psutil.Error):
            return None
        return process if same and alive else None

    def ensure_ports_free(self) -> None:
        for port in self.ports():
            if not port_is_free(self.host, port):
                raise PortInUseError(self.name, self.host, port)

    def start(self) -> psutil.Process:
        """Launch the server in its own process group and record its pid."""
        self.ensure_ports_free()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        with self.log_file.open("ab") as log:
            popen = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.service_dir,
                env=self.environment(),
                start_new_session=True,
            )
        process = psutil.Process(popen.pid)
        record = {"pid": popen.pid, "create_time": process.create_time(), "argv": self.command()}
        self.pid_file.write_text(json.dumps(record))
        return process

    def wait_healthy(self, process: psutil.Process) -> str:
        """Block until :meth:`check_health` passes; fail fast if the process dies."""
        deadline = time.monotonic() + self.start_timeout_s
        last_error = "no health check ran yet"
        while time.monotonic() < deadline:
            if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
                raise UnhealthyError(self.name, "the process exited", tail(self.log_file))
            if self.listening():
                try:
                    return self.check_health()
                except Exception as error:  # noqa: BLE001 - any failure means "not yet"
                    last_error = f"{type(error).__name__}: {error}"
            wait_for_exit(process, timeout_s=0.5)
        raise UnhealthyError(
            self.name,
            f"not healthy after {self.start_timeout_s:.0f} s ({last_error})",
            tail(self.log_file),
        )

    def stop(self) -> bool:
        """Stop the recorded process group; True if something was running."""
        process = self.running_process()
        if process is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        group = os.getpgid(process.pid)
        os.killpg(group, signal.SIGTERM)
        if not wait_for_exit(process, timeout_s=self.stop_timeout_s):
            os.killpg(group, signal.SIGKILL)
            wait_for_exit(process, timeout_s=10)
        reap_group(group)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServiceStatus:
        process = self.running_process()
        if process is None:
            return ServiceStatus(self.name, self.address, False, "not running")
        try:
            detail = self.check_health()
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            return ServiceStatus(self.name, self.address, False, f"{error}", process.pid)
        return ServiceStatus(self.name, self.address, True, detail, process.pid)


def wait_for_exit(process: psutil.Process, timeout_s: float) -> bool:
    """Wait on the process itself (not a sleep); True if it has exited."""
    try:
        process.wait(timeout=timeout_s)
    except psutil.TimeoutExpired:
        return False
    except psutil.NoSuchProcess:
        return True
    return True


def reap_group(group: int) -> None:
    """Kill whatever is left of a process group the project started."""
    leftovers = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == group]
    for process in leftovers:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(leftovers, timeout=10)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def run_checked(argv: list[str], what: str, timeout_s: float = 900) -> None:
    """Run an install step; raise a one-line :class:`StackError` on failure."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise StackError(f"{what} failed (exit {result.returncode}): {' | '.join(last)}")


Probe = Callable[[], str]
