"""Errors of the local stack: each prints as one line that says what is wrong and how to fix it."""

from __future__ import annotations


class StackError(RuntimeError):
    """A local-stack failure with a one-line, actionable message."""


class PortInUseError(StackError):
    def __init__(self, service: str, host: str, port: int) -> None:
        self.service, self.host, self.port = service, host, port
        super().__init__(
            f"{service}: port {host}:{port} is already taken by another process; "
            f"stop it (e.g. `ss -ltnp 'sport = :{port}'` shows which) or set another port"
        )


class JavaError(StackError):
    def __init__(self, service: str, found: str, wanted: str) -> None:
        self.service, self.found, self.wanted = service, found, wanted
        super().__init__(
            f"{service}: needs Java {wanted}, found {found}; "
            f"install it (apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )


class DownloadError(StackError):
    def __init__(self, service: str, what: str, reason: str) -> None:
        self.service, self.what, self.reason = service, what, reason
        super().__init__(
            f"{service}: could not download {what} ({reason}); check the network to the "
            f"package registry and run `python start_services.py up` again"
        )


class UnhealthyError(StackError):
    def __init__(self, service: str, reason: str, log_tail: str) -> None:
        self.service, self.reason, self.log_tail = service, reason, log_tail
        super().__init__(f"{service}: {reason}; last lines of its log:\n{log_tail}")
