"""Load a model bundle, predict the three triage heads, and explain each prediction with SHAP.

A bundle is a folder with ``bundle.json`` (name, version, label sets, feature specification,
calibration temperatures, per-class thresholds, metrics) and one LightGBM text model per head
(``type.txt``, ``priority.txt``, ``resolution.txt``). Everything needed to encode a request is in
the bundle, so a prediction never depends on the code that trained it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import shap

from features.history import ExceptionHistory
from features.pipeline import FeatureEncoder, FeatureSpec
from serving.explain import (
    PREDICT_RAW_SCORE,
    PredictedClassExplainer,
    SingleRowPredictor,
    prediction_threads,
    single_row_ready,
)
from workflow.errors import ModelError
from workflow.records import Contribution

logger = logging.getLogger(__name__)

__all__ = ["HEADS", "HeadPrediction", "TriageModel", "round_like_python", "softmax"]

HEADS: tuple[str, ...] = ("type", "priority", "resolution")
TOP_CONTRIBUTIONS = 3


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Turn raw multiclass scores into probabilities, dividing the scores by ``temperature`` first."""
    # The ufunc reductions that .max() and .sum() call, called directly, because one exception
    # pays more for the method wrappers than for the arithmetic.
    scaled = scores / temperature
    scaled = scaled - np.maximum.reduce(scaled, axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / np.add.reduce(exp, axis=1, keepdims=True)


@dataclass(frozen=True)
class HeadPrediction:
    """One head's prediction for one exception: the label, calibrated probabilities and why."""

    label: str
    confidence: float
    threshold: float
    probabilities: dict[str, float]
    explanation: tuple[Contribution, ...]


# Up to this many cells Python's round() per cell costs less than the vectorised pass's set-up
# (about 0.5 us a cell against 15 us, measured with NumPy 2.4 on the 2-core development machine).
_PYTHON_ROUNDING_CELLS = 32


def round_like_python(values: np.ndarray, digits: int) -> list[list[float]]:
    """Return Python's ``round(value, digits)`` of every cell of a 2-D array, as lists of rows.

    ``np.round`` scales, rounds to an integer and scales back, which gives Python's result unless
    the scaled value lies within an ulp of a half (there Python rounds the exact binary value, e.g.
    ``round(2.5e-06, 6) == 3e-06`` where NumPy gives 2e-06), or is too large or not finite. Those
    few cells are rounded by Python; the rest cost one vectorised pass instead of a call each.
    """
    if values.size <= _PYTHON_ROUNDING_CELLS:
        return [[round(value, digits) for value in row] for row in values.tolist()]
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * (10.0 ** digits)
        result = np.round(values, digits).tolist()
        doubtful = ~(np.abs(scaled) < 2.0 ** 52) | (
            np.abs(scaled - np.floor(scaled) - 0.5) <= np.spacing(np.abs(scaled))
        )
    if doubtful.any():
        exact = values.tolist()
        for i, j in zip(*np.nonzero(doubtful), strict=True):
            result[i][j] = round(exact[i][j], digits)
    return result


@dataclass
class _Head:
    name: str
    labels: list[str]
    booster: lgb.Booster
    temperature: float
    thresholds: dict[str, float]
    explainer: Any = None
    row_scores: SingleRowPredictor | None = None

    def __post_init__(self) -> None:
        if self.row_scores is None:
            self.row_scores = SingleRowPredictor(self.booster, PREDICT_RAW_SCORE)

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        # One row (a single POST /v1/triage) goes through LightGBM's single-row API, which returns
        # the same scores without Booster.predict's overhead.
        if len(matrix) == 1 and self.row_scores is not None and single_row_ready(matrix, self.row_scores.num_features):
            return self.row_scores.predict(matrix[0])[np.newaxis]
        scores = self.booster.predict(matrix, raw_score=True, num_threads=prediction_threads(len(matrix)))
        return scores.reshape(len(matrix), -1)


class TriageModel:
    """The three LightGBM heads of a bundle, with the feature spec that feeds them."""

    def __init__(self, path: Path, metadata: dict[str, Any], heads: dict[str, _Head], spec: FeatureSpec):
        self.path = path
        self.metadata = metadata
        self.heads = heads
        self.spec = spec
        self._encoder: tuple[FeatureSpec, FeatureEncoder] | None = None

    @property
    def name(self) -> str:
        """The registered model name, e.g. ``claims-triage``."""
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        """The bundle version: a content hash, so two identical bundles share a version."""
        return str(self.metadata["version"])

    @property
    def run_id(self) -> str | None:
        """The MLflow run that produced the bundle, when it was trained under MLflow."""
        return self.metadata.get("mlflow_run_id")

    @classmethod
    def load(cls, path: str | Path) -> TriageModel:
        """Load a bundle folder; raise :class:`ModelError` naming what is missing or unreadable."""
        folder = Path(path)
        manifest = folder / "bundle.json"
        if not manifest.is_file():
            raise ModelError(
                f"no model bundle at {folder}: bundle.json is missing. "
                "Build the default bundle with `triage train --output models/default`."
            )
        try:
            metadata = json.loads(manifest.read_text(encoding="utf-8"))
            spec = FeatureSpec.from_dict(metadata["feature_spec"], history=_load_history(folder, metadata))
            heads = {}
            for name, head_meta in metadata["heads"].items():
                booster = lgb.Booster(model_file=str(folder / head_meta["model_file"]))
                heads[name] = _Head(
                    name=name,
                    labels=list(head_meta["labels"]),
                    booster=booster,
                    temperature=float(head_meta.get("temperature", 1.0)),
                    thresholds={k: float(v) for k, v in head_meta.get("thresholds", {}).items()},
                )
        except (KeyError, ValueError, lgb.basic.LightGBMError) as error:
            raise ModelError(f"the model bundle at {folder} is unreadable: {error}") from error
        if "type" not in heads:
            raise ModelError(f"the model bundle at {folder} has no `type` head; retrain it with `triage train`")
        logger.info("loaded model %s version %s from %s", metadata.get("name"), metadata.get("version"), folder)
        return cls(folder, metadata, heads, spec)

    @property
    def labels(self) -> dict[str, list[str]]:
        """The label set of each head, in the column order of its probabilities."""
        return {name: list(head.labels) for name, head in self.heads.items()}

    def feature_rows(
        self, payloads: Sequence[Mapping[str, Any]], *, history: ExceptionHistory | None = None
    ) -> list[dict[str, Any]]:
        """Build the raw feature rows of exceptions given in their JSON form.

        History features count the bundle's history snapshot (or ``history``) plus the batch itself,
        each row seeing only exceptions detected strictly before it, as in training.
        """
        return self.spec.feature_rows(payloads, history=history)

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode raw feature rows as ``self.spec.encode`` does, with the level lookups built once.

        A bundle's spec does not change once loaded; assigning another spec to ``self.spec``
        builds new lookups on the next call.
        """
        return self._feature_encoder().encode(rows)

    def _feature_encoder(self) -> FeatureEncoder:
        cached = self._encoder
        if cached is None or cached[0] is not self.spec:
            cached = self._encoder = (self.spec, self.spec.encoder())
        return cached[1]

    def predict(
        self, payloads: Sequence[Mapping[str, Any]], *, explain: bool = True,
        history: ExceptionHistory | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, list[HeadPrediction]]]:
        """Predict every head for a batch of exceptions; explain only each head's predicted class.

        ``history`` holds earlier exceptions (from the store) for the history features; without
        it they count the bundle's snapshot. Returns the raw feature rows and, per head, one
        prediction per exception, in input order.
        """
        rows = self.feature_rows(payloads, history=history)
        matrix = self.encode(rows)
        results: dict[str, list[HeadPrediction]] = {}
        for name, head in self.heads.items():
            results[name] = self._predict_head(head, matrix, rows, explain=explain)
        return rows, results

    def _predict_head(
        self, head: _Head, matrix: np.ndarray, rows: Sequence[Mapping[str, Any]], *, explain: bool
    ) -> list[HeadPrediction]:
        if len(matrix) == 1 and head.row_scores is not None and single_row_ready(matrix, head.row_scores.num_features):
            return [self._predict_row(head, matrix, rows[0], explain=explain)]
        probabilities = softmax(head.raw_scores(matrix), head.temperature)
        labels = head.labels
        if len(probabilities) and probabilities.shape[1] != len(labels):
            raise ValueError(
                f"the {head.name} head scores {probabilities.shape[1]} classes but the bundle names "
                f"{len(labels)} labels; rebuild the bundle with `triage train`"
            )
        predicted = probabilities.argmax(axis=1)
        explanations = self._explanations(head, matrix, predicted, rows) if explain else None

        # Plain Python floats from tolist() equal float() of each NumPy element, and a batch pays
        # one conversion instead of one per cell.
        probability_rows = probabilities.tolist()
        rounded_rows = round_like_python(probabilities, 6)
        thresholds = [head.thresholds.get(label, 1.0) for label in labels]
        return [
            HeadPrediction(
                labels[class_index],
                probability_rows[i][class_index],
                thresholds[class_index],
                dict(zip(labels, rounded_rows[i])),
                explanations[i] if explanations is not None else (),
            )
            for i, class_index in enumerate(predicted.tolist())
        ]

    def _predict_row(self, head: _Head, matrix: np.ndarray, row: Mapping[str, Any], *, explain: bool) -> HeadPrediction:
        """Predict one head for a one-row matrix, with the values :meth:`_predict_head` gives.

        LightGBM's single-row API replaces ``Booster.predict``, and Python lists replace NumPy
        where NumPy's set-up costs more than the work.
        """
        labels = head.labels
        scores = head.row_scores.predict(matrix[0])  # type: ignore[union-attr]
        if len(scores) != len(labels):
            raise ValueError(
                f"the {head.name} head scores {len(scores)} classes but the bundle names "
                f"{len(labels)} labels; rebuild the bundle with `triage train`"
            )

        # The same NumPy softmax as a batch, so the probabilities are the same to the last bit.
        probability_array = softmax(scores[np.newaxis], head.temperature)[0]
        class_index = int(probability_array.argmax())
        probabilities = probability_array.tolist()
        label = labels[class_index]

        explanation: tuple[Contribution, ...] = ()
        if explain:
            contributions = _predicted_class_explainer(head).explain_row(matrix[0], class_index)[:-1]
            # The same NumPy sort as a batch, so equal contributions come in the same order.
            order = (-np.abs(contributions[np.newaxis])).argsort(axis=1)[0, :TOP_CONTRIBUTIONS].tolist()
            values = contributions.tolist()
            columns = self._feature_encoder().columns
            explanation = tuple([
                Contribution(
                    feature=columns[j], value=_display_value(row.get(columns[j])), contribution=round(values[j], 6)
                )
                for j in order
            ])

        return HeadPrediction(
            label,
            probabilities[class_index],
            head.thresholds.get(label, 1.0),
            {name: round(value, 6) for name, value in zip(labels, probabilities)},
            explanation,
        )

    def _explanations(
        self, head: _Head, matrix: np.ndarray, predicted: np.ndarray, rows: Sequence[Mapping[str, Any]]
    ) -> list[tuple[Contribution, ...]]:
        """Return the ``TOP_CONTRIBUTIONS`` largest contributions by absolute value of each row."""
        contributions = self._contributions(head, matrix, predicted)
        # Sorting each row of the matrix is the same sort as sorting the rows one by one.
        order = (-np.abs(contributions)).argsort(axis=1)[:, :TOP_CONTRIBUTIONS]
        top_values = round_like_python(contributions[np.arange(len(order))[:, np.newaxis], order], 6)
        columns = self._feature_encoder().columns
        # Positional arguments build a batch's thousands of contributions a third faster than
        # keywords; tests/code/serving/test_model.py pins the field order they rely on.
        return [
            tuple([
                Contribution(columns[j], _display_value(row.get(columns[j])), value)
                for j, value in zip(row_order, row_values)
            ])
            for row, row_order, row_values in zip(rows, order.tolist(), top_values, strict=True)
        ]

    def prepare_explainers(self) -> None:
        """Build every head's per-class explainer now, so the first request does not pay for it."""
        for head in self.heads.values():
            _predicted_class_explainer(head)

    def _contributions(self, head: _Head, matrix: np.ndarray, predicted: np.ndarray) -> np.ndarray:
        """SHAP values of each row's predicted class in raw score units, shaped (rows, features).

        Only the trees of the predicted class are walked (see serving.explain), and the values
        equal ``shap.TreeExplainer(booster).shap_values`` for that class.
        """
        return _predicted_class_explainer(head).explain(matrix, predicted).values

    def expected_values(self, head: str) -> np.ndarray:
        """The SHAP base value of each class of a head, in raw score units."""
        explainer = shap.TreeExplainer(self.heads[head].booster)
        return np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))


def _predicted_class_explainer(head: _Head) -> PredictedClassExplainer:
    # Built on first use because bundle loading stays free of explanation concerns; two threads
    # racing here both build the same explainer, and either result is correct.
    if not isinstance(head.explainer, PredictedClassExplainer):
        head.explainer = PredictedClassExplainer(head.booster)
    return head.explainer


def _load_history(folder: Path, metadata: Mapping[str, Any]) -> ExceptionHistory | None:
    """Load the bundle's history snapshot; a bundle without one counts history from the batch alone."""
    name = metadata.get("history_file")
    if not name:
        return None
    path = folder / str(name)
    if not path.is_file():
        raise ModelError(f"the model bundle at {folder} names {name} as its history, but the file is missing; "
                         "rebuild the bundle with `triage train`")
    return ExceptionHistory.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _display_value(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        if value != value:  # NaN, without a NumPy call per value
            return "missing"
        return f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    return str(value)
