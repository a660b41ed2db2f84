"""A connection to the mart's PostgreSQL, or one line that says why not and what to do."""

from __future__ import annotations

from typing import Any

import psycopg

from batch_app.mart.errors import MartError, MartUnreachableError
from smart_meter.settings import ConnectionSettings, PostgresPasswordError

CONNECT_TIMEOUT_S = 10
_REFUSED_HINTS = ("password authentication", "does not exist", "no pg_hba.conf entry")


def connect_mart(settings: ConnectionSettings) -> psycopg.Connection[Any]:
    """An autocommit connection as the mart's role (transactions are explicit)."""
    try:
        password = settings.postgres_password_value()
    except PostgresPasswordError as error:
        raise MartError(str(error)) from None
    try:
        return psycopg.connect(
            host=settings.postgres_host,
            port=settings.postgres_port,
            dbname=settings.postgres_database,
            user=settings.postgres_user,
            password=password,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="smart-meter-mart",
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        reason = _reason(error)
        raise MartUnreachableError(settings.postgres_address, reason, _hint(reason)) from None


def _reason(error: psycopg.OperationalError) -> str:
    """libpq's last word: 'Connection refused', 'FATAL: password authentication failed...'."""
    first_line = (str(error).strip().splitlines() or ["no reason given"])[0]
    return " ".join(first_line.rsplit(" failed: ", 1)[-1].split())


def _hint(reason: str) -> str:
    if any(hint in reason for hint in _REFUSED_HINTS):
        return (
            "check the password (SMART_METER_POSTGRES_PASSWORD or _PASSWORD_FILE) and the "
            "role and database (SMART_METER_POSTGRES_USER, SMART_METER_POSTGRES_DATABASE)"
        )
    return (
        "start it with `python start_services.py up postgres`, or point "
        "SMART_METER_POSTGRES_HOST and SMART_METER_POSTGRES_PORT at the mart's server"
    )
