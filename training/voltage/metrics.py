"""Scores of a classifier of rare events: precision, recall, F1, PR-AUC, and accuracy
(reported in the seed's style, and misleading: see :data:`ACCURACY_MISLEADS`)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve

ACCURACY_MISLEADS = (
    "Accuracy misleads here: most meter-hours have no event coming, so a model that always "
    "says 'no event' scores a high accuracy while finding none of them."
)


def best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The probability threshold with the best F1 (on validation)."""
    if labels.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(labels, probabilities)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def scores(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, F1 at ``threshold``; PR-AUC (average precision); accuracy."""
    predicted = probabilities >= threshold
    true_pos = float(np.sum(predicted & (labels == 1)))
    precision = true_pos / max(float(predicted.sum()), 1.0)
    recall = true_pos / max(float(labels.sum()), 1.0)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    pr_auc = float(average_precision_score(labels, probabilities)) if labels.any() else 0.0
    accuracy = float(np.mean(predicted == (labels == 1)))
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pr_auc": round(pr_auc, 4),
        "accuracy": round(accuracy, 4),
        "positives": int(labels.sum()),
        "rows": len(labels),
    }
