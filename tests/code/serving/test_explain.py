"""Explanations of the predicted class only: equal to full SHAP values and additive to the raw score."""

from __future__ import annotations

import gc
import pickle
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import shap

from serving.explain import (
    PREDICT_CONTRIB,
    PREDICT_RAW_SCORE,
    PredictedClassExplainer,
    SingleRowPredictor,
    single_row_ready,
    split_model_by_class,
)
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


def test_single_row_raw_scores_equal_booster_predict(trained) -> None:
    booster, matrix = trained
    predictor = SingleRowPredictor(booster, PREDICT_RAW_SCORE)

    ours = np.array([predictor.predict(row) for row in matrix])

    np.testing.assert_array_equal(ours, booster.predict(matrix, raw_score=True))


def test_single_row_contributions_equal_booster_predict(trained) -> None:
    booster, matrix = trained
    explainer = PredictedClassExplainer(booster)

    for class_index, class_booster in enumerate(explainer.class_boosters):
        ours = np.array([explainer.explain_row(row, class_index) for row in matrix[:50]])

        np.testing.assert_array_equal(ours, class_booster.predict(matrix[:50], pred_contrib=True))


def test_one_row_explains_as_in_a_batch(trained) -> None:
    booster, matrix = trained
    _, classes = _predicted(booster, matrix)
    explainer = PredictedClassExplainer(booster)
    batch = explainer.explain(matrix, classes)

    for i in range(0, len(matrix), 7):
        one = explainer.explain(matrix[i:i + 1], classes[i:i + 1])

        np.testing.assert_array_equal(one.values, batch.values[i:i + 1])
        np.testing.assert_array_equal(one.base, batch.base[i:i + 1])


def test_lone_row_of_class_explains_as_booster(trained) -> None:
    booster, matrix = trained
    classes = np.zeros(40, dtype=np.int64)
    classes[17] = 3  # the only row of class 3 goes through the single-row API
    explainer = PredictedClassExplainer(booster)

    ours = explainer.explain(matrix[:40], classes)

    expected = explainer.class_boosters[3].predict(matrix[17:18], pred_contrib=True)[0]
    np.testing.assert_array_equal(ours.values[17], expected[:-1])
    assert ours.base[17] == expected[-1]


def test_single_row_threads_equal_one_thread(trained) -> None:
    booster, matrix = trained
    _, classes = _predicted(booster, matrix)
    scores = SingleRowPredictor(booster, PREDICT_RAW_SCORE)
    explainer = PredictedClassExplainer(booster)
    expected_scores = booster.predict(matrix, raw_score=True)
    expected_contributions = explainer.explain(matrix, classes)
    threads = 8
    start = threading.Barrier(threads)

    def predict_all(offset: int) -> bool:
        start.wait()
        # Each thread walks the rows from its own offset, so different rows are in flight at once.
        for step in range(len(matrix)):
            i = (offset * 37 + step) % len(matrix)
            output = explainer.explain_row(matrix[i], int(classes[i]))
            if not np.array_equal(scores.predict(matrix[i]), expected_scores[i]):
                return False
            if not np.array_equal(output[:-1], expected_contributions.values[i]):
                return False
        return True

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(predict_all, range(threads)))

    assert results == [True] * threads


def test_single_row_handle_freed_with_thread(trained) -> None:
    booster, matrix = trained
    predictor = SingleRowPredictor(booster, PREDICT_RAW_SCORE)
    handles = []

    def predict_once() -> None:
        predictor.predict(matrix[0])
        handles.append(weakref.ref(predictor._local.config))

    thread = threading.Thread(target=predict_once)
    thread.start()
    thread.join()
    gc.collect()

    assert handles and handles[0]() is None
    np.testing.assert_array_equal(predictor.predict(matrix[0]), booster.predict(matrix[:1], raw_score=True)[0])


def test_single_row_handles_freed_with_predictor(trained) -> None:
    booster, matrix = trained
    predictor = SingleRowPredictor(booster, PREDICT_RAW_SCORE)
    handles = []
    predicted = threading.Event()
    release = threading.Event()

    def predict_and_wait() -> None:
        predictor.predict(matrix[0])
        handles.append(weakref.ref(predictor._local.config))
        predicted.set()
        release.wait(10)

    # One handle in this thread and one in a thread that is still running when the predictor goes.
    thread = threading.Thread(target=predict_and_wait)
    thread.start()
    predicted.wait(10)
    predictor.predict(matrix[0])
    handles.append(weakref.ref(predictor._local.config))
    del predictor
    gc.collect()
    alive = [handle() is not None for handle in handles]
    release.set()
    thread.join()

    assert alive == [False, False]


def test_single_row_predictor_survives_pickling(trained) -> None:
    booster, matrix = trained
    predictor = SingleRowPredictor(booster, PREDICT_CONTRIB)
    predictor.predict(matrix[0])

    copy = pickle.loads(pickle.dumps(predictor))

    np.testing.assert_array_equal(copy.predict(matrix[1]), booster.predict(matrix[1:2], pred_contrib=True)[0])


def test_single_row_rejects_wrong_width(trained) -> None:
    booster, matrix = trained
    predictor = SingleRowPredictor(booster, PREDICT_RAW_SCORE)

    with pytest.raises(ValueError, match="needs 6 feature values"):
        predictor.predict(matrix[0, :5])


def test_single_row_ready_needs_float_model_width() -> None:
    assert single_row_ready(np.zeros((1, 6)), 6)
    assert single_row_ready(np.zeros((1, 6), dtype=np.float32), 6)
    # Booster.predict reads integers as float32 and reports a wrong width itself.
    assert not single_row_ready(np.zeros((1, 6), dtype=np.int64), 6)
    assert not single_row_ready(np.zeros((1, 5)), 6)
