"""What the console reports as one line instead of a traceback, with its exit status."""

from __future__ import annotations


class ConsoleError(Exception):
    """Wrong input (a service name, a replica count): exit status 2."""

    exit_code = 2


class BackendUnreachableError(ConsoleError):
    """The backend (Docker engine, Swarm, NATS) cannot be reached: exit status 1."""

    exit_code = 1
