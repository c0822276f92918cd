"""Train the three LightGBM heads, calibrate them, choose per-class thresholds, write a bundle.

The split is by time: the oldest exceptions train, the next ones stop the boosting early and fit
the calibration temperature and the thresholds, and the newest ones only measure. A threshold is
the lowest calibrated confidence at which automatic routing of that class reaches the target
precision on held-out data; a class that never reaches it gets a threshold above 1, so it always
goes to a person.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.metrics import f1_score, log_loss

from features.pipeline import FeatureSpec, exception_features
from serving.model import softmax
from training.dataset import LabelledData

logger = logging.getLogger(__name__)

__all__ = ["HeadReport", "TrainConfig", "TrainReport", "expected_calibration_error", "train_bundle"]

MODEL_NAME = "claims-triage"
HEAD_LABEL_COLUMNS = {"type": "type", "priority": "priority", "resolution": "resolution"}
NEVER_AUTO = 1.01


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults build the shipped bundle."""

    seed: int = 7
    target_precision: float = 0.95
    min_support: int = 5
    num_leaves: int = 15
    learning_rate: float = 0.08
    max_rounds: int = 400
    early_stopping_rounds: int = 30
    min_data_in_leaf: int = 10
    train_share: float = 0.7
    valid_share: float = 0.15


@dataclass
class HeadReport:
    """Held-out metrics of one head."""

    labels: list[str]
    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]]
    thresholds: dict[str, float]
    temperature: float
    best_iteration: int


@dataclass
class TrainReport:
    """What training produced: the bundle folder, its version and each head's metrics."""

    output: Path
    version: str
    heads: dict[str, HeadReport] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def expected_calibration_error(probabilities: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by count."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            total += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return float(total)


def _time_split(n: int, config: TrainConfig) -> tuple[slice, slice, slice]:
    train_end = int(n * config.train_share)
    valid_end = int(n * (config.train_share + config.valid_share))
    return slice(0, train_end), slice(train_end, valid_end), slice(valid_end, n)


def _fit_temperature(raw: np.ndarray, y: np.ndarray) -> float:
    def loss(temperature: float) -> float:
        probabilities = softmax(raw, temperature)
        return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def choose_thresholds(
    probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str], target_precision: float, min_support: int
) -> dict[str, float]:
    """Pick, per class, the lowest confidence at which routing that class reaches the target precision."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    thresholds: dict[str, float] = {}
    for index, label in enumerate(labels):
        chosen = predicted == index
        if chosen.sum() < min_support:
            thresholds[label] = NEVER_AUTO
            continue
        order = np.argsort(-confidence[chosen])
        sorted_conf = confidence[chosen][order]
        sorted_hit = (y[chosen] == index)[order]
        precision = np.cumsum(sorted_hit) / np.arange(1, len(sorted_hit) + 1)
        reaching = np.nonzero((precision >= target_precision) & (np.arange(1, len(sorted_hit) + 1) >= min_support))[0]
        thresholds[label] = float(sorted_conf[reaching.max()]) if len(reaching) else NEVER_AUTO
    return thresholds


def _auto_route_metrics(probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str],
                        thresholds: dict[str, float]) -> tuple[float, float]:
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    limits = np.array([thresholds[labels[p]] for p in predicted])
    auto = confidence >= limits
    share = float(auto.mean()) if len(auto) else 0.0
    precision = float((predicted[auto] == y[auto]).mean()) if auto.any() else float("nan")
    return share, precision


def _per_class(probabilities: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
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


def _train_head(name: str, matrix: np.ndarray, labels_raw: pd.Series, spec: FeatureSpec,
                config: TrainConfig, output: Path) -> HeadReport:
    train, valid, test = _time_split(len(matrix), config)
    labels = sorted(labels_raw.iloc[train].unique())
    label_index = {label: i for i, label in enumerate(labels)}
    y_all = labels_raw.map(label_index)
    # A class seen only after the training period cannot be predicted; its rows leave the
    # held-out sets rather than count as certain errors of an unrelated class.
    known = y_all.notna().to_numpy()
    y = y_all.fillna(-1).astype(int).to_numpy()

    params = {
        "objective": "multiclass",
        "num_class": len(labels),
        "num_leaves": config.num_leaves,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": config.min_data_in_leaf,
        "min_data_per_group": 5,
        "cat_smooth": 10.0,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    train_idx = np.arange(len(matrix))[train]
    valid_idx = np.arange(len(matrix))[valid][known[valid]]
    test_idx = np.arange(len(matrix))[test][known[test]]

    dataset = lgb.Dataset(matrix[train_idx], y[train_idx], feature_name=spec.columns,
                          categorical_feature=spec.categorical_indices, free_raw_data=False)
    validation = lgb.Dataset(matrix[valid_idx], y[valid_idx], reference=dataset)
    booster = lgb.train(
        params, dataset, num_boost_round=config.max_rounds, valid_sets=[validation],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )

    def raw_scores(rows: np.ndarray) -> np.ndarray:
        return booster.predict(rows, raw_score=True, num_iteration=booster.best_iteration).reshape(len(rows), -1)

    temperature = _fit_temperature(raw_scores(matrix[valid_idx]), y[valid_idx])
    valid_probabilities = softmax(raw_scores(matrix[valid_idx]), temperature)
    thresholds = choose_thresholds(valid_probabilities, y[valid_idx], labels, config.target_precision, config.min_support)

    test_probabilities = softmax(raw_scores(matrix[test_idx]), temperature)
    y_test = y[test_idx]
    auto_share, auto_precision = _auto_route_metrics(test_probabilities, y_test, labels, thresholds)
    metrics = {
        "accuracy": float((test_probabilities.argmax(axis=1) == y_test).mean()),
        "macro_f1": float(f1_score(y_test, test_probabilities.argmax(axis=1), average="macro",
                                   labels=list(range(len(labels))), zero_division=0)),
        "log_loss": float(log_loss(y_test, test_probabilities, labels=list(range(len(labels))))),
        "ece": expected_calibration_error(test_probabilities, y_test),
        "auto_route_share": auto_share,
        "auto_route_precision": auto_precision,
        "test_rows": float(len(test_idx)),
    }

    booster.save_model(str(output / f"{name}.txt"), num_iteration=booster.best_iteration)
    logger.info("trained head %s: macro F1 %.3f, auto-route share %.3f", name, metrics["macro_f1"], auto_share)
    return HeadReport(labels=labels, metrics=metrics, per_class=_per_class(test_probabilities, y_test, labels),
                      thresholds=thresholds, temperature=temperature, best_iteration=int(booster.best_iteration))


def _bundle_version(output: Path, heads: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for head in heads:
        digest.update((output / f"{head}.txt").read_bytes())
    return digest.hexdigest()[:12]


def train_bundle(
    data: LabelledData,
    output: Path,
    *,
    config: TrainConfig | None = None,
    provenance: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train every head on labelled exceptions and write the bundle folder."""
    config = config or TrainConfig()
    output.mkdir(parents=True, exist_ok=True)
    frame = data.frame
    if len(frame) < 50:
        raise ValueError(f"too few labelled exceptions to train: {len(frame)}; simulate more months or claims")

    rows = [exception_features(payload) for payload in frame["payload"]]
    train, _, _ = _time_split(len(rows), config)
    spec = FeatureSpec().fit(rows[train])
    matrix = spec.encode(rows)

    report = TrainReport(output=output, version="")
    for head, column in HEAD_LABEL_COLUMNS.items():
        if progress:
            progress(f"training the {head} head")
        report.heads[head] = _train_head(head, matrix, frame[column], spec, config, output)

    report.version = _bundle_version(output, list(report.heads))
    split = _time_split(len(rows), config)
    report.rows = {name: s.stop - s.start for name, s in zip(("train", "valid", "test"), split, strict=True)}
    metadata = {
        "name": MODEL_NAME,
        "version": report.version,
        "feature_spec": spec.to_dict(),
        "heads": {
            head: {
                "model_file": f"{head}.txt",
                "labels": head_report.labels,
                "temperature": round(head_report.temperature, 6),
                "thresholds": {k: round(v, 6) for k, v in head_report.thresholds.items()},
                "metrics": {k: round(v, 6) for k, v in head_report.metrics.items()},
                "per_class": head_report.per_class,
                "best_iteration": head_report.best_iteration,
            }
            for head, head_report in report.heads.items()
        },
        "target_precision": config.target_precision,
        "rows": report.rows,
        "unlabelled_exceptions": data.unlabelled,
        "simulator_ceiling": data.ceiling,
        "provenance": provenance or {},
        "train_config": config.__dict__,
    }
    (output / "bundle.json").write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n",
                                        encoding="utf-8")
    return report
