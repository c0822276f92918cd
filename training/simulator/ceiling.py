"""Estimate the best root-cause accuracy any model can reach from what is observable.

The simulator draws each root cause from the payer, the event and a few claim facts, and then
draws the codes from the cause. So grouping exceptions by every observable signal the simulator
used and predicting each group's majority label is the best possible rule. Its accuracy, with
each group weighted by its size, is the ceiling. The in-sample figure is optimistic where
groups are small, because a group of one is always right. A two-fold holdout figure is
pessimistic and is reported beside it. The true ceiling lies between the two.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import pandas as pd

__all__ = ["CEILING_SIGNALS", "compute_ceiling"]

logger = logging.getLogger(__name__)

# Every observable column the simulator used to choose a root cause or its codes.
CEILING_SIGNALS: tuple[str, ...] = (
    "detection",
    "payer_id",
    "drift_phase",
    "group_codes",
    "carc_codes",
    "rarc_codes",
    "has_prior_auth",
    "needs_auth",
    "filed_late",
    "multi_line",
)


def _majority_accuracy(frame: pd.DataFrame, label: str) -> float:
    if frame.empty:
        return float("nan")
    counts = frame.groupby(list(CEILING_SIGNALS), dropna=False)[label].agg(
        lambda labels: labels.value_counts().iloc[0]
    )
    return float(counts.sum() / len(frame))


def _majority_map(frame: pd.DataFrame, label: str) -> dict[tuple[Any, ...], str]:
    grouped = frame.groupby(list(CEILING_SIGNALS), dropna=False)[label]
    # value_counts sorts by count, then by first appearance, so ties break the same way every run.
    return {key: labels.value_counts().index[0] for key, labels in grouped}


def _holdout_accuracy(frame: pd.DataFrame, label: str, seed: int) -> float:
    if len(frame) < 4:
        return float("nan")
    order = list(range(len(frame)))
    random.Random(f"ceiling:{seed}").shuffle(order)
    half = len(order) // 2
    folds = (frame.iloc[order[:half]], frame.iloc[order[half:]])
    correct = 0
    for train, test in ((folds[0], folds[1]), (folds[1], folds[0])):
        mapping = _majority_map(train, label)
        by_detection = train.groupby("detection")[label].agg(lambda labels: labels.value_counts().index[0])
        fallback = train[label].value_counts().index[0]
        for row in test.itertuples(index=False):
            key = tuple(getattr(row, column) for column in CEILING_SIGNALS)
            predicted = mapping.get(key, by_detection.get(row.detection, fallback))
            correct += int(predicted == getattr(row, label))
    return correct / len(frame)


def compute_ceiling(truth: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Return the root-cause ceiling, overall and per detection kind, for the observed label."""
    if truth.empty:
        logger.warning("truth table is empty: no ceiling to compute")
        return {"rows": 0, "signals": list(CEILING_SIGNALS), "root_cause_accuracy": None}

    by_detection = {}
    for detection, frame in truth.groupby("detection"):
        by_detection[str(detection)] = {
            "rows": int(len(frame)),
            "root_cause_accuracy": round(_majority_accuracy(frame, "root_cause"), 4),
        }
    return {
        "target": "root_cause",
        "rows": int(len(truth)),
        "signals": list(CEILING_SIGNALS),
        "groups": int(truth.groupby(list(CEILING_SIGNALS), dropna=False).ngroups),
        "root_cause_accuracy": round(_majority_accuracy(truth, "root_cause"), 4),
        "root_cause_accuracy_holdout": round(_holdout_accuracy(truth, "root_cause", seed), 4),
        "true_root_cause_accuracy": round(_majority_accuracy(truth, "true_root_cause"), 4),
        "label_noise_share": round(float(truth["observed_label_noisy"].mean()), 4),
        "by_detection": by_detection,
    }
