"""Baselines that every trained head is compared with, on the same split and the same metrics.

* ``majority``: always the most common training label, with the training label shares as probabilities.
* ``carc_lookup`` (type head only): the category that our CARC map (``features.codesets.shipped_carc_category``)
  gives the largest adjustment's reason code. Exceptions without a mapped code take the most common
  training label of their finding code. The predicted class gets that rule's training precision as
  its probability, and the rest is spread over the other classes by their training shares.
* ``logistic_regression``: multinomial logistic regression on the same encoded features, with
  categorical levels one-hot encoded and numbers imputed with the training median and standardised.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from features.codesets import shipped_carc_category

logger = logging.getLogger(__name__)

__all__ = ["BASELINES", "BaselineInput", "fit_baseline"]

BASELINES: tuple[str, ...] = ("majority", "carc_lookup", "logistic_regression")


@dataclass
class BaselineInput:
    """The inputs of a baseline: the raw rows, the encoded matrix and the labels of one head."""

    rows: Sequence[Mapping[str, Any]]
    matrix: np.ndarray
    y: np.ndarray
    labels: list[str]
    train_idx: np.ndarray
    categorical_count: int
    seed: int


def _prior(data: BaselineInput) -> np.ndarray:
    counts = np.bincount(data.y[data.train_idx], minlength=len(data.labels)).astype(float)
    return (counts + 0.5) / (counts + 0.5).sum()


def majority_probabilities(data: BaselineInput, rows_idx: np.ndarray) -> np.ndarray:
    """Return the training label shares for every row, so the majority label always wins."""
    return np.tile(_prior(data), (len(rows_idx), 1))


def _lookup_key(row: Mapping[str, Any], labels: Sequence[str]) -> str:
    carc = row.get("carc_1")
    category = shipped_carc_category(str(carc)) if carc else None
    if category is not None and category in labels:
        return f"carc:{category}"
    return f"finding:{row.get('finding_code')}"


def carc_lookup_probabilities(data: BaselineInput, rows_idx: np.ndarray) -> np.ndarray:
    """Predict the CARC map's category, or the finding code's most common training label."""
    prior = _prior(data)
    label_index = {label: i for i, label in enumerate(data.labels)}
    by_key: dict[str, Counter[int]] = {}
    for i in data.train_idx:
        by_key.setdefault(_lookup_key(data.rows[i], data.labels), Counter())[int(data.y[i])] += 1
    majority = int(prior.argmax())

    probabilities = np.zeros((len(rows_idx), len(data.labels)))
    for out, i in enumerate(rows_idx):
        key = _lookup_key(data.rows[i], data.labels)
        counts = by_key.get(key, Counter())
        if key.startswith("carc:"):
            predicted = label_index[key.removeprefix("carc:")]
        else:
            predicted = counts.most_common(1)[0][0] if counts else majority
        total = sum(counts.values())
        confidence = (counts[predicted] + 0.5) / (total + 1.0) if total else float(prior[predicted])
        others = prior.copy()
        others[predicted] = 0.0
        probabilities[out] = (1.0 - confidence) * others / others.sum()
        probabilities[out, predicted] = confidence
    return probabilities


def fit_logistic(data: BaselineInput) -> Callable[[np.ndarray], np.ndarray]:
    """Fit a multinomial logistic regression on the training rows; return its predictor of row indices."""
    categorical = list(range(data.categorical_count))
    numeric = list(range(data.categorical_count, data.matrix.shape[1]))
    encoder = ColumnTransformer([
        ("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True),
                                      OneHotEncoder(handle_unknown="ignore")), categorical),
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                  StandardScaler()), numeric),
    ])
    model = make_pipeline(encoder, LogisticRegression(max_iter=2000, C=1.0, random_state=data.seed))
    train_classes = np.unique(data.y[data.train_idx])
    model.fit(data.matrix[data.train_idx], data.y[data.train_idx])

    def predict(rows_idx: np.ndarray) -> np.ndarray:
        probabilities = np.zeros((len(rows_idx), len(data.labels)))
        probabilities[:, train_classes] = model.predict_proba(data.matrix[rows_idx])
        return probabilities

    return predict


def fit_baseline(name: str, data: BaselineInput) -> Callable[[np.ndarray], np.ndarray]:
    """Fit one baseline on the training rows; return a function from row indices to probabilities."""
    if name == "majority":
        return lambda rows_idx: majority_probabilities(data, rows_idx)
    if name == "carc_lookup":
        return lambda rows_idx: carc_lookup_probabilities(data, rows_idx)
    if name == "logistic_regression":
        return fit_logistic(data)
    raise ValueError(f"unknown baseline {name!r}; use one of {', '.join(BASELINES)}")
