"""How values are bound to CQL statements, shared by every writer of the platform's tables."""

from __future__ import annotations

from typing import Any

from cassandra.query import UNSET_VALUE


def unset_if_none(value: Any) -> Any:
    """``UNSET_VALUE`` for an absent field: leaves the cell alone, writes no tombstone."""
    return UNSET_VALUE if value is None else value
