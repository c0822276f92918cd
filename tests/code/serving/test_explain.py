"""Explanations of the predicted class only: equal to full SHAP values and additive to the raw score."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import shap

from serving.explain import PredictedClassExplainer, split_model_by_class
from serving.model import TriageModel

MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "default"


@pytest.fixture(scope="module")
def trained() -> tuple[lgb.Booster, np.ndarray]:
    """A small multiclass model with a categorical feature and missing values, trained here."""
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(600, 6))
    matrix[:, 0] = rng.integers(0, 5, 600)
    matrix[rng.random(600) < 0.1, 2] = np.nan
    labels = (matrix[:, 0] + (matrix[:, 1] > 0) * 2).astype(int) % 4
    data = lgb.Dataset(matrix, labels, categorical_feature=[0])
    params = {"objective": "multiclass", "num_class": 4, "num_leaves": 7, "verbose": -1, "min_data_in_leaf": 5}
    return lgb.train(params, data, num_boost_round=25), matrix


def _predicted(booster: lgb.Booster, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    raw = booster.predict(matrix, raw_score=True).reshape(len(matrix), -1)
    return raw, raw.argmax(axis=1)


def test_contributions_equal_full_shap_values(trained) -> None:
    booster, matrix = trained
    _, classes = _predicted(booster, matrix)

    ours = PredictedClassExplainer(booster).explain(matrix, classes)
    full = np.asarray(shap.TreeExplainer(booster).shap_values(matrix, check_additivity=False))

    np.testing.assert_allclose(ours.values, full[np.arange(len(matrix)), :, classes], atol=1e-6)


def test_contributions_add_up_to_raw_score(trained) -> None:
    booster, matrix = trained
    raw, classes = _predicted(booster, matrix)

    ours = PredictedClassExplainer(booster).explain(matrix, classes)

    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base, raw[np.arange(len(matrix)), classes], atol=1e-6)


def test_any_class_can_be_explained(trained) -> None:
    booster, matrix = trained
    raw, _ = _predicted(booster, matrix)
    other = np.full(len(matrix), 3)

    ours = PredictedClassExplainer(booster).explain(matrix, other)

    np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base, raw[:, 3], atol=1e-6)


def test_split_keeps_trees_of_each_class(trained) -> None:
    booster, _ = trained

    texts = split_model_by_class(booster.model_to_string())

    assert len(texts) == 4
    assert all(text.count("\nTree=") == 25 for text in texts)


def test_split_rejects_text_without_trees() -> None:
    with pytest.raises(ValueError, match="Tree="):
        split_model_by_class("tree\nversion=v4\n")


@pytest.mark.skipif(not (MODEL_DIR / "bundle.json").is_file(), reason="no model bundle in models/default")
def test_bundle_heads_match_full_shap_values() -> None:
    model = TriageModel.load(MODEL_DIR)
    rng = np.random.default_rng(3)
    matrix = rng.uniform(0, 500, size=(200, len(model.spec.columns)))
    for column, name in enumerate(model.spec.columns):
        if name in model.spec.categorical:
            levels = max(len(model.spec.levels.get(name, [])), 1)
            matrix[:, column] = rng.integers(0, levels, 200)

    for name, head in model.heads.items():
        raw, classes = _predicted(head.booster, matrix)
        ours = PredictedClassExplainer(head.booster).explain(matrix, classes)
        full = np.asarray(shap.TreeExplainer(head.booster).shap_values(matrix, check_additivity=False))

        np.testing.assert_allclose(ours.values, full[np.arange(200), :, classes], atol=1e-6, err_msg=name)
        np.testing.assert_allclose(ours.values.sum(axis=1) + ours.base, raw[np.arange(200), classes], atol=1e-6, err_msg=name)
