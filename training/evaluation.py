"""Metrics of a classifier head on held-out data, the same for a model and for a baseline.

Every function takes calibrated probabilities (rows × classes) and integer labels that index the
head's label list. Automatic routing sends an exception to its predicted queue without review when
the confidence of the predicted class reaches that class's threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import f1_score, log_loss

logger = logging.getLogger(__name__)

__all__ = [
    "NEVER_AUTO",
    "auto_route_metrics",
    "choose_thresholds",
    "classification_report",
    "expected_calibration_error",
    "macro_f1",
    "per_class_metrics",
]

# A threshold above every probability: the class always goes to a person.
NEVER_AUTO = 1.01


def expected_calibration_error(probabilities: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by count."""
    if len(y) == 0:
        return float("nan")
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            total += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(total)


def choose_thresholds(
    probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str], target_precision: float, min_support: int
) -> dict[str, float]:
    """Pick, per class, the lowest confidence at which routing that class reaches the target precision.

    Among the held-out rows predicted as a class, sorted by confidence, the threshold is the
    confidence of the last row at which the running precision is still at least the target, with
    at least ``min_support`` rows routed. A class that never gets there gets :data:`NEVER_AUTO`.
    """
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    thresholds: dict[str, float] = {}
    for index, label in enumerate(labels):
        chosen = predicted == index
        if chosen.sum() < min_support:
            thresholds[label] = NEVER_AUTO
            continue
        order = np.argsort(-confidence[chosen], kind="stable")
        sorted_conf = confidence[chosen][order]
        sorted_hit = (y[chosen] == index)[order]
        routed = np.arange(1, len(sorted_hit) + 1)
        precision = np.cumsum(sorted_hit) / routed
        reaching = np.nonzero((precision >= target_precision) & (routed >= min_support))[0]
        thresholds[label] = float(sorted_conf[reaching.max()]) if len(reaching) else NEVER_AUTO
    return thresholds


def auto_route_metrics(probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str],
                       thresholds: Mapping[str, float]) -> tuple[float, float]:
    """Return the share of rows routed automatically and the realised precision of those rows."""
    if len(y) == 0:
        return 0.0, float("nan")
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    limits = np.array([thresholds.get(labels[p], NEVER_AUTO) for p in predicted])
    auto = confidence >= limits
    share = float(auto.mean())
    precision = float((predicted[auto] == y[auto]).mean()) if auto.any() else float("nan")
    return share, precision


def per_class_metrics(probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall and support of each class; NaN where a class is never predicted or present."""
    predicted = probabilities.argmax(axis=1)
    report = {}
    for index, label in enumerate(labels):
        tp = int(((predicted == index) & (y == index)).sum())
        predicted_n = int((predicted == index).sum())
        actual_n = int((y == index).sum())
        report[label] = {
            "precision": tp / predicted_n if predicted_n else float("nan"),
            "recall": tp / actual_n if actual_n else float("nan"),
            "support": float(actual_n),
        }
    return report


def macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-averaged F1 over the classes that occur in the labels or the predictions.

    A class absent from both would score 0 and drag the mean down for no error, so it is left out.
    """
    present = sorted(set(np.asarray(y).tolist()) | set(np.asarray(predicted).tolist()))
    if not present:
        return float("nan")
    return float(f1_score(y, predicted, average="macro", labels=present, zero_division=0))


def classification_report(probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str],
                          thresholds: Mapping[str, float]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Return the headline metrics and the per-class metrics of one head on held-out rows."""
    classes = list(range(len(labels)))
    predicted = probabilities.argmax(axis=1)
    clipped = np.clip(probabilities, 1e-12, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    auto_share, auto_precision = auto_route_metrics(probabilities, y, labels, thresholds)
    metrics = {
        "accuracy": float((predicted == y).mean()) if len(y) else float("nan"),
        "macro_f1": macro_f1(y, predicted),
        "log_loss": float(log_loss(y, clipped, labels=classes)) if len(y) else float("nan"),
        "ece": expected_calibration_error(probabilities, y),
        "auto_route_share": auto_share,
        "auto_route_precision": auto_precision,
        "test_rows": float(len(y)),
    }
    return metrics, per_class_metrics(probabilities, y, labels)
