"""Metrics and threshold selection on hand-made probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation import (
    NEVER_AUTO,
    auto_route_metrics,
    choose_thresholds,
    expected_calibration_error,
    macro_f1,
)

LABELS = ["a", "b"]


def test_perfect_confidence_has_zero_ece():
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(probabilities, np.array([0, 1])) == 0.0


def test_overconfident_errors_raise_ece():
    probabilities = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(probabilities, np.array([1, 1])) == pytest.approx(0.9)


def test_threshold_reaches_target_precision():
    confidence = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    probabilities = np.column_stack([confidence, 1 - confidence])
    y = np.array([0, 0, 0, 0, 1, 1])
    thresholds = choose_thresholds(probabilities, y, LABELS, target_precision=0.95, min_support=2)
    assert thresholds["a"] == pytest.approx(0.8)


def test_unreachable_precision_never_routes():
    probabilities = np.array([[0.9, 0.1]] * 6)
    thresholds = choose_thresholds(probabilities, np.array([0, 1] * 3), LABELS, 0.95, 2)
    assert thresholds["a"] == NEVER_AUTO


def test_auto_route_share_and_precision():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    share, precision = auto_route_metrics(probabilities, np.array([0, 1, 1]), LABELS, {"a": 0.85, "b": 0.85})
    assert share == pytest.approx(1 / 3)
    assert precision == 1.0


def test_macro_f1_ignores_absent_classes():
    assert macro_f1(np.array([0, 0, 1]), np.array([0, 0, 1])) == 1.0
