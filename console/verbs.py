"""The console's verbs over one backend: what the REPL and the shell call.

Each verb checks its input first (a wrong service name or replica count is a
:class:`ConsoleError`, exit status 2) and prints a short line of what it did.
"""

from __future__ import annotations

import time

from console.backend import Backend, ServiceRow, render, with_rates
from console.catalogue import InjectPlan, replica_count, service_kind
from console.rates import pipeline_rates
from smart_meter.settings import ConnectionSettings


class Console:
    """``up``, ``run_*``, ``scale``, ``status``, ``logs``, ``stop``, ``stop_all``, ``down``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def up(self) -> None:
        """Start what the services need on this backend."""
        for line in self.backend.up():
            print(line)

    def run_inject(
        self, meters: int = 1000, rate: float = 100.0, faults: str = "default", replicas: int = 1
    ) -> None:
        """Each injector replica simulates ``meters`` meters at ``rate`` readings/s."""
        kind = service_kind("inject")
        plan = InjectPlan(meters=int(meters), rate=float(rate), faults=str(faults))
        count = replica_count(kind, replicas)
        self.backend.run(kind, count, plan.to_json())
        print(f"inject: {count} replica(s), {meters} meters and {rate} readings/s each")

    def run_app_streaming(self, replicas: int = 1, preset: str | None = None) -> None:
        """Replicas of the streaming app (they share the partitions among themselves)."""
        kind = service_kind("streaming-app")
        count = replica_count(kind, replicas)
        self.backend.run(kind, count, {"preset": preset} if preset else {})
        print(f"streaming-app: {count} replica(s)")

    def run_bridge(self) -> None:
        """The NATS → Kafka bridge (one replica)."""
        self.backend.run(service_kind("kafka-bridge"), 1, {})
        print("kafka-bridge: 1 replica")

    def scale(self, service: str, replicas: int) -> None:
        """Run ``replicas`` replicas of ``service`` (0 stops it)."""
        kind = service_kind(service)
        count = replica_count(kind, replicas)
        self.backend.scale(kind, count)
        print(f"{kind.name}: scaled to {count}")

    def rows(self) -> list[ServiceRow]:
        """The status table's rows, with the pipeline's readings/s."""
        rates = pipeline_rates(ConnectionSettings(), time.time())
        return with_rates(self.backend.rows(), rates)

    def status(self) -> None:
        """Print the table: service, replicas wanted/running, health, readings/s."""
        print(render(self.rows()))

    def logs(self, service: str, n: int = 20) -> None:
        """The last ``n`` lines of each replica's log."""
        print(self.backend.logs(service_kind(service), int(n)))

    def stop(self, service: str) -> None:
        """Stop every replica of ``service``."""
        kind = service_kind(service)
        was_running = self.backend.stop(kind)
        print(f"{kind.name}: {'stopped' if was_running else 'was not running'}")

    def stop_all(self) -> None:
        """Stop every service (the local stack's servers keep running)."""
        for line in self.backend.stop_all():
            print(line)

    def down(self) -> None:
        """Stop every service, then the servers (or engine) ``up`` started."""
        for line in self.backend.down():
            print(line)


HELP = """smart-meter console ({backend}). Verbs:
  up()                                   start the servers the services need
  run_inject(meters=1000, rate=100, faults="default")   per replica
  run_app_streaming(replicas=1)          run_bridge()
  run_app_batch(job, first_day, last_day)   run_training(job, first_day, last_day)
  scale("inject", 3)   status()   logs("inject", n=20)   stop("inject")
  stop_all()           down()
Services: inject, streaming-app, kafka-bridge."""
