"""The pure validation core: VEE rules, the per-meter engine, presets.

No I/O, no clocks: time comes from readings and the watermark. One module per rule; see
:mod:`streaming_app.rules.base` for the shared vocabulary.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from streaming_app.rules.base import RULE_TYPES, Action, Context, Finding, Rule
from streaming_app.rules.engine import Quality, Status, Validator, Verdict
from streaming_app.rules.events import Lateness


def rule_types() -> dict[str, type[Rule[Any]]]:
    """Every rule class in this package, by kind (imports each module to find them)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(RULE_TYPES.items()))


__all__ = [
    "Action",
    "Context",
    "Finding",
    "Lateness",
    "Quality",
    "Rule",
    "Status",
    "Validator",
    "Verdict",
    "rule_types",
]
