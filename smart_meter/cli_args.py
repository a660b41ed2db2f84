"""Argument types and a parser that the command lines of every service share.

Each type turns a wrong value into one line that says what is wrong (argparse prints
``prog: error: argument --x: <that line>`` and exits with status 2).
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """Reports a wrong option as one line (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    value = whole_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = whole_int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def whole_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def utc_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. {text}Z): {text!r}")
    return when.astimezone(UTC)


def iso_day(text: str) -> date:
    """A day as ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def meter_list(text: str) -> list[str]:
    """Comma-separated meter ids, at least one."""
    meters = [m.strip() for m in text.split(",") if m.strip()]
    if not meters:
        raise argparse.ArgumentTypeError("give at least one meter id")
    return meters
