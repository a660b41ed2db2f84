"""The services the console runs, their checks, and the arguments of each replica.

Both backends run the same command lines (``python -m <module> …``); only where the
process runs differs. Injector replica ``i`` of ``R`` owns meters ``i::R`` of a fleet
of ``meters × R`` meters, so adding a replica adds meters and load, never duplicates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from console.errors import ConsoleError

INTERVAL_S = 60
LOOKBACK_S = 30 * 24 * 3600  # event time starts this far back and never passes launch time


@dataclass(frozen=True)
class ServiceKind:
    """One deployable: its module, its image name and how far it scales."""

    name: str
    module: str
    max_replicas: int | None = None


SERVICES: dict[str, ServiceKind] = {
    "inject": ServiceKind("inject", "inject"),
    "streaming-app": ServiceKind("streaming-app", "streaming_app"),
    "kafka-bridge": ServiceKind("kafka-bridge", "kafka_bridge", max_replicas=1),
}


def service_kind(name: object) -> ServiceKind:
    """The service called ``name``; :class:`ConsoleError` naming the choices otherwise."""
    kind = SERVICES.get(str(name))
    if kind is None:
        raise ConsoleError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return kind


def replica_count(kind: ServiceKind, count: object) -> int:
    """A checked replica count for ``kind`` (0 stops it)."""
    try:
        value = int(str(count))
    except ValueError:
        raise ConsoleError(f"replicas must be a whole number, got {count!r}") from None
    if value < 0:
        raise ConsoleError(f"replicas must not be negative, got {value}")
    if kind.max_replicas is not None and value > kind.max_replicas:
        raise ConsoleError(f"{kind.name} runs at most {kind.max_replicas} replica, got {value}")
    return value


@dataclass(frozen=True)
class InjectPlan:
    """What each injector replica simulates: ``meters`` meters at ``rate`` readings/s.

    Event time starts ``LOOKBACK_S`` back and runs ``speedup`` times faster than the wall
    clock; a restart (on scale) continues from the simulated time already reached.
    """

    meters: int = 1000
    rate: float = 100.0
    faults: str = "default"
    seed: int = 42
    sim_start_s: int = 0
    wall_start_s: float = 0.0

    def __post_init__(self) -> None:
        if self.meters < 1:
            raise ConsoleError(f"meters must be at least 1, got {self.meters}")
        if not self.rate > 0:
            raise ConsoleError(f"rate must be positive (readings/s), got {self.rate}")
        if self.faults not in ("default", "none", "all"):
            raise ConsoleError(f"faults must be default, none or all, got {self.faults!r}")

    @property
    def speedup(self) -> float:
        return self.rate * INTERVAL_S / self.meters

    def started(self, wall_now_s: float) -> InjectPlan:
        """The plan of a (re)launch at ``wall_now_s``: continue simulated time."""
        if self.wall_start_s == 0.0:
            sim_s = int(wall_now_s) - LOOKBACK_S
        else:
            sim_s = int(self.sim_start_s + (wall_now_s - self.wall_start_s) * self.speedup)
        sim_s = min(sim_s, int(wall_now_s))
        return replace(self, sim_start_s=sim_s - sim_s % INTERVAL_S, wall_start_s=wall_now_s)

    def args(self, replicas: int, stream: str, subject_prefix: str) -> list[str]:
        """Arguments shared by every replica (the replica's own slice is added after)."""
        intervals = max(1, (int(self.wall_start_s) - self.sim_start_s) // INTERVAL_S)
        start = datetime.fromtimestamp(self.sim_start_s, UTC).isoformat()
        return [
            *("--meters", str(self.meters * replicas), "--interval-s", str(INTERVAL_S)),
            *("--intervals", str(intervals), "--speedup", f"{self.speedup:.6g}"),
            *("--start", start, "--faults", self.faults, "--seed", str(self.seed)),
            *("--stream", stream, "--subject-prefix", subject_prefix),
            *("--replicas", str(replicas)),
        ]

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def replica_args(kind: ServiceKind, replica: int) -> list[str]:
    """Arguments of local replica ``replica`` (0-based)."""
    if kind.name == "inject":
        return ["--replica", str(replica)]
    if kind.name == "streaming-app":
        return ["--replica-id", f"console-app-{replica}"]
    return []


SLOT = "{{.Task.Slot}}"  # a Swarm template: templates work in env, not in args


def slot_environment(kind: ServiceKind) -> dict[str, str]:
    """Environment giving each Swarm task its slice (slot ``s`` of ``R`` is replica s-1)."""
    if kind.name == "inject":
        return {"SMART_METER_INJECT_TASK_SLOT": SLOT}
    if kind.name == "streaming-app":
        return {"SMART_METER_APP_REPLICA_ID": f"console-app-{SLOT}"}
    return {}


def service_args(
    kind: ServiceKind, options: dict[str, object], replicas: int, stream: str, prefix: str
) -> list[str]:
    """Arguments after ``python -m <module>`` shared by all replicas of ``kind``."""
    if kind.name == "inject":
        return inject_plan(options).args(replicas, stream, prefix)
    if kind.name == "streaming-app":
        preset = options.get("preset")
        return ["run", *(("--preset", str(preset)) if preset else ())]
    return ["nats-to-kafka"]


def inject_plan(options: dict[str, object]) -> InjectPlan:
    """The injector plan kept in a service record."""
    fields = {key: value for key, value in options.items() if key in InjectPlan.__annotations__}
    return InjectPlan(**fields)  # type: ignore[arg-type]


def app_environment(kind: ServiceKind, stream: str, prefix: str) -> dict[str, str]:
    """Environment a service needs so it reads the console's stream."""
    if kind.name == "streaming-app":
        return {"SMART_METER_APP_STREAM": stream, "SMART_METER_APP_SUBJECT_PREFIX": prefix}
    return {}
