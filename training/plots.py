"""Figures of a training run: confusion matrices, calibration curves and a SHAP summary.

Every function returns a matplotlib figure drawn with the Agg backend, so training needs no display.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

logger = logging.getLogger(__name__)

__all__ = ["calibration_figure", "confusion_figure", "shap_summary_figure"]


def confusion_figure(y: np.ndarray, probabilities: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """Draw the confusion matrix of held-out rows, rows normalised to recall."""
    figure, axes = plt.subplots(figsize=(1.0 + 0.6 * len(labels), 1.0 + 0.55 * len(labels)))
    ConfusionMatrixDisplay.from_predictions(
        y, probabilities.argmax(axis=1), labels=list(range(len(labels))), display_labels=list(labels),
        normalize="true", values_format=".2f", xticks_rotation=90, ax=axes, colorbar=False,
    )
    axes.set_title(title)
    figure.tight_layout()
    return figure


def calibration_figure(y: np.ndarray, probabilities: np.ndarray, title: str, bins: int = 10) -> Figure:
    """Draw accuracy against the confidence of the predicted class, in equal-width bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    centres, accuracy, counts = [], [], []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            centres.append(confidence[in_bin].mean())
            accuracy.append(correct[in_bin].mean())
            counts.append(int(in_bin.sum()))
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(centres, accuracy, marker="o", label="held-out rows")
    for x, y_value, count in zip(centres, accuracy, counts, strict=True):
        axes.annotate(str(count), (x, y_value), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axes.set_xlabel("confidence of the predicted class")
    axes.set_ylabel("accuracy")
    axes.set_title(title)
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def shap_summary_figure(shap_values: np.ndarray, matrix: np.ndarray, feature_names: Sequence[str],
                        labels: Sequence[str], title: str, max_display: int = 15) -> Figure:
    """Draw the mean absolute SHAP value of each feature, stacked by class.

    ``shap_values`` has the shape (rows, features, classes), in raw score units.
    """
    per_class = [shap_values[:, :, k] for k in range(shap_values.shape[2])]
    shap.summary_plot(per_class, matrix, feature_names=list(feature_names), class_names=list(labels),
                      plot_type="bar", max_display=max_display, show=False)
    figure = plt.gcf()
    figure.suptitle(title)
    figure.tight_layout()
    return figure
