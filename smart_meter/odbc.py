"""Where Debian's PostgreSQL ODBC driver (``odbc-postgresql``) puts its Unicode driver:
the stack checks it is installed, the ODBC templates of ``excel`` name it."""

from __future__ import annotations

from pathlib import Path

ODBC_DRIVER_CANDIDATES = (
    Path("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so"),
    Path("/usr/lib/aarch64-linux-gnu/odbc/psqlodbcw.so"),
    Path("/usr/lib/odbc/psqlodbcw.so"),
)


def odbc_driver_path() -> Path | None:
    """The PostgreSQL Unicode ODBC driver of ``odbc-postgresql``, if installed."""
    return next((path for path in ODBC_DRIVER_CANDIDATES if path.exists()), None)
