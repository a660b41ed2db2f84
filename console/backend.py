"""What both backends do, and the rows of ``status()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from console.catalogue import ServiceKind
from console.rates import Rates


@dataclass(frozen=True)
class ServiceRow:
    """One line of the status table."""

    service: str
    wanted: int
    running: int
    health: str
    in_per_s: float | None = None
    stored_per_s: float | None = None


def with_rates(rows: list[ServiceRow], rates: Rates | None) -> list[ServiceRow]:
    """The pipeline's readings/s on the streaming app's row (in: also on the injector's)."""
    if rates is None:
        return rows
    return [_with_rate(row, rates) for row in rows]


def _with_rate(row: ServiceRow, rates: Rates) -> ServiceRow:
    if not row.wanted + row.running:
        return row
    if row.service == "streaming-app":
        return ServiceRow(*_head(row), rates.in_per_s, rates.stored_per_s)
    if row.service == "inject":
        return ServiceRow(*_head(row), rates.in_per_s, None)
    return row


def _head(row: ServiceRow) -> tuple[str, int, int, str]:
    return row.service, row.wanted, row.running, row.health


def render(rows: list[ServiceRow]) -> str:
    """The status table as text."""
    lines = [
        f"{'service':<14} {'wanted':>6} {'running':>7}  {'health':<28} {'in/s':>8} {'stored/s':>8}"
    ]
    for row in rows:
        lines.append(
            f"{row.service:<14} {row.wanted:>6} {row.running:>7}  {row.health:<28} "
            f"{_rate(row.in_per_s):>8} {_rate(row.stored_per_s):>8}"
        )
    return "\n".join(lines)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Backend(Protocol):
    """Where services run: local processes or Swarm services."""

    name: str

    def up(self) -> list[str]:
        """Start what the services need (servers, engine); one line each."""

    def run(self, kind: ServiceKind, replicas: int, options: dict[str, object]) -> None:
        """(Re)start ``kind`` with ``replicas`` replicas and these options."""

    def scale(self, kind: ServiceKind, replicas: int) -> None:
        """Change the replica count, keeping the options."""

    def stop(self, kind: ServiceKind) -> bool:
        """Stop every replica; True if something was running."""

    def stop_all(self) -> list[str]:
        """Stop every service this console started; one line each."""

    def rows(self) -> list[ServiceRow]:
        """One row per service (rates added by the console)."""

    def logs(self, kind: ServiceKind, lines: int) -> str:
        """The last ``lines`` lines of each replica's log."""

    def down(self) -> list[str]:
        """Stop everything, then what :meth:`up` started; one line each."""
