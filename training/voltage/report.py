"""The markdown report of a training run, and the cards of its models."""

from __future__ import annotations

from typing import Any

from training.voltage.compare import PERSISTENCE, SEED_MLP, Comparison
from training.voltage.metrics import ACCURACY_MISLEADS

COLUMNS = ("precision", "recall", "f1", "pr_auc", "accuracy")


def metrics_table(comparison: Comparison) -> list[str]:
    """Markdown rows: every model and baseline on test."""
    lines = ["| model | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, figures in comparison.test_table().items():
        label = name
        if name == comparison.chosen:
            label += " (chosen)"
        elif name in (PERSISTENCE, SEED_MLP, "always_no_event"):
            label += " (baseline)"
        values = " | ".join(f"{figures[c]:.3f}" for c in COLUMNS)
        lines.append(f"| {label} | {values} |")
    return lines


def markdown(comparison: Comparison, context: dict[str, Any]) -> str:
    """The whole report: what was trained on, the table, the choice, why not accuracy."""
    chosen = comparison.trained[comparison.chosen]
    head = [
        f"# Voltage-event classifier, version {context['version']}",
        "",
        f"Trained on {context['first_day']}..{context['last_day']} ({context['meters']} meters, "
        f"{context['rows']} meter-hours, {context['events']} events of at least "
        f"{context['min_event_minutes']} min). Label: an event starts within "
        f"{context['horizon_hours']} h. Split by hour 60/20/20, {context['horizon_hours']} h "
        "purged before each boundary.",
        "",
        "Test period:",
        "",
    ]
    tail = [
        "",
        f"Chosen on validation F1: **{comparison.chosen}** (validation F1 "
        f"{chosen.valid['f1']:.3f}, threshold {chosen.threshold:.3f}).",
        "",
        ACCURACY_MISLEADS,
        "",
    ]
    return "\n".join([*head, *metrics_table(comparison), *tail])
