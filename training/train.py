"""Train the three LightGBM heads, calibrate them, choose per-class thresholds, write a bundle.

The split is by time: the oldest exceptions train, the next ones stop the boosting early and fit
the calibration temperature and the thresholds, and the newest ones only measure. A threshold is
the lowest calibrated confidence at which automatic routing of that class reaches the target
precision on held-out data; a class that never reaches it gets a threshold above 1, so it always
goes to a person. The baselines of :mod:`training.baselines` are fitted and measured on the same
split, and the simulator's ceiling is copied into the report beside them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from features.history import ExceptionHistory
from features.payload import to_date
from features.pipeline import FeatureSpec
from serving.model import softmax
from training.baselines import BASELINES, BaselineInput, fit_baseline
from training.dataset import LabelledData
from training.evaluation import NEVER_AUTO, choose_thresholds, classification_report, expected_calibration_error

logger = logging.getLogger(__name__)

__all__ = [
    "HEAD_LABEL_COLUMNS",
    "HeadReport",
    "PreparedFeatures",
    "TrainConfig",
    "TrainReport",
    "expected_calibration_error",
    "prepare_features",
    "train_bundle",
]

MODEL_NAME = "claims-triage"
HEAD_LABEL_COLUMNS = {"type": "type", "priority": "priority", "resolution": "resolution"}
HISTORY_FILE = "history.json"
# Re-exported for callers that imported it from here before the evaluation module existed.
NEVER_AUTO = NEVER_AUTO


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
    baselines: bool = True


@dataclass
class HeadReport:
    """Held-out metrics of one head (or one baseline of that head)."""

    labels: list[str]
    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]]
    thresholds: dict[str, float]
    temperature: float = 1.0
    best_iteration: int = 0


@dataclass
class HeadEvaluation:
    """The held-out predictions of one head, kept in memory for plots and the champion comparison."""

    labels: list[str]
    test_idx: np.ndarray
    y_test: np.ndarray
    probabilities: np.ndarray
    booster: lgb.Booster


@dataclass
class PreparedFeatures:
    """The feature rows of a labelled frame, the fitted spec and the encoded matrix."""

    rows: list[dict[str, Any]]
    spec: FeatureSpec
    matrix: np.ndarray


@dataclass
class TrainReport:
    """The result of a training: the bundle folder, its version, and the metrics of each head and baseline."""

    output: Path
    version: str
    heads: dict[str, HeadReport] = field(default_factory=dict)
    baselines: dict[str, dict[str, HeadReport]] = field(default_factory=dict)
    ceiling: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    evaluations: dict[str, HeadEvaluation] = field(default_factory=dict, repr=False)
    features: PreparedFeatures | None = field(default=None, repr=False)
    frame: pd.DataFrame | None = field(default=None, repr=False)
    train_config: TrainConfig = field(default_factory=TrainConfig, repr=False)

    def test_payloads(self) -> list[dict[str, Any]]:
        """The held-out exceptions in their JSON form, in time order."""
        if self.frame is None:
            return []
        _, _, test = time_split(len(self.frame), self.train_config)
        return list(self.frame["payload"].iloc[test])

    def test_labels(self, head: str) -> list[str]:
        """The held-out labels of one head, aligned with :meth:`test_payloads`."""
        if self.frame is None:
            return []
        _, _, test = time_split(len(self.frame), self.train_config)
        return list(self.frame[HEAD_LABEL_COLUMNS[head]].iloc[test])


def time_split(n: int, config: TrainConfig) -> tuple[slice, slice, slice]:
    """Split ``n`` time-ordered rows into train, validation and test slices."""
    train_end = int(n * config.train_share)
    valid_end = int(n * (config.train_share + config.valid_share))
    return slice(0, train_end), slice(train_end, valid_end), slice(valid_end, n)


def prepare_features(data: LabelledData, config: TrainConfig) -> PreparedFeatures:
    """Build every feature row with the serving code path and fit the spec on the training slice only."""
    payloads = data.payloads
    spec = FeatureSpec(payer_kinds=dict(data.payer_kinds))
    # The spec has no history yet, so feature_rows indexes the payloads themselves: each row counts
    # only exceptions detected strictly before it, exactly as serving counts from its snapshot.
    rows = spec.feature_rows(payloads)
    train, valid, _ = time_split(len(rows), config)
    spec.fit(rows[train])
    # The snapshot reaches back one window before the held-out rows, so serving computes their
    # history features exactly as training did (the champion comparison relies on that).
    first_held_out = to_date(payloads[valid.start].get("detected_on")) if valid.start < len(payloads) else None
    spec.history = ExceptionHistory.from_payloads(payloads).snapshot(covering=first_held_out)
    return PreparedFeatures(rows=rows, spec=spec, matrix=spec.encode(rows))


def _fit_temperature(raw: np.ndarray, y: np.ndarray) -> float:
    def loss(temperature: float) -> float:
        probabilities = softmax(raw, temperature)
        return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-12, None))))

    result = minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


@dataclass
class _HeadData:
    labels: list[str]
    y: np.ndarray
    train_idx: np.ndarray
    valid_idx: np.ndarray
    test_idx: np.ndarray


def _head_data(labels_raw: pd.Series, config: TrainConfig) -> _HeadData:
    n = len(labels_raw)
    train, valid, test = time_split(n, config)
    labels = sorted(labels_raw.iloc[train].unique())
    label_index = {label: i for i, label in enumerate(labels)}
    y_all = labels_raw.map(label_index)
    # A class seen only after the training period cannot be predicted, so its rows leave the
    # held-out sets rather than count as certain errors of an unrelated class.
    known = y_all.notna().to_numpy()
    y = y_all.fillna(-1).astype(int).to_numpy()
    positions = np.arange(n)
    return _HeadData(labels=labels, y=y, train_idx=positions[train],
                     valid_idx=positions[valid][known[valid]], test_idx=positions[test][known[test]])


def _lgb_params(config: TrainConfig, num_class: int) -> dict[str, Any]:
    return {
        "objective": "multiclass",
        "num_class": num_class,
        "num_leaves": config.num_leaves,
        "learning_rate": config.learning_rate,
        "min_data_in_leaf": config.min_data_in_leaf,
        "min_data_per_group": 5,
        "cat_smooth": 10.0,
        "max_cat_to_onehot": 8,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "seed": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }


def _train_head(name: str, features: PreparedFeatures, head: _HeadData, config: TrainConfig,
                output: Path) -> tuple[HeadReport, HeadEvaluation]:
    matrix, spec = features.matrix, features.spec
    dataset = lgb.Dataset(matrix[head.train_idx], head.y[head.train_idx], feature_name=spec.columns,
                          categorical_feature=spec.categorical_indices, free_raw_data=False)
    validation = lgb.Dataset(matrix[head.valid_idx], head.y[head.valid_idx], reference=dataset)
    booster = lgb.train(
        _lgb_params(config, len(head.labels)), dataset, num_boost_round=config.max_rounds, valid_sets=[validation],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )

    def raw_scores(rows: np.ndarray) -> np.ndarray:
        return booster.predict(rows, raw_score=True, num_iteration=booster.best_iteration).reshape(len(rows), -1)

    temperature = _fit_temperature(raw_scores(matrix[head.valid_idx]), head.y[head.valid_idx])
    valid_probabilities = softmax(raw_scores(matrix[head.valid_idx]), temperature)
    thresholds = choose_thresholds(valid_probabilities, head.y[head.valid_idx], head.labels,
                                   config.target_precision, config.min_support)

    test_probabilities = softmax(raw_scores(matrix[head.test_idx]), temperature)
    y_test = head.y[head.test_idx]
    metrics, per_class = classification_report(test_probabilities, y_test, head.labels, thresholds)

    booster.save_model(str(output / f"{name}.txt"), num_iteration=booster.best_iteration)
    logger.info("trained head %s: macro F1 %.3f, auto-route share %.3f", name, metrics["macro_f1"],
                metrics["auto_route_share"])
    report = HeadReport(labels=head.labels, metrics=metrics, per_class=per_class, thresholds=thresholds,
                        temperature=temperature, best_iteration=int(booster.best_iteration))
    evaluation = HeadEvaluation(labels=head.labels, test_idx=head.test_idx, y_test=y_test,
                                probabilities=test_probabilities, booster=booster)
    return report, evaluation


def _evaluate_baselines(head_name: str, features: PreparedFeatures, head: _HeadData,
                        config: TrainConfig) -> dict[str, HeadReport]:
    data = BaselineInput(rows=features.rows, matrix=features.matrix, y=head.y, labels=head.labels,
                         train_idx=head.train_idx, categorical_count=len(features.spec.categorical), seed=config.seed)
    reports = {}
    for name in BASELINES:
        if name == "carc_lookup" and head_name != "type":
            continue
        predict = fit_baseline(name, data)
        thresholds = choose_thresholds(predict(head.valid_idx), head.y[head.valid_idx], head.labels,
                                       config.target_precision, config.min_support)
        metrics, per_class = classification_report(predict(head.test_idx), head.y[head.test_idx], head.labels,
                                                   thresholds)
        reports[name] = HeadReport(labels=head.labels, metrics=metrics, per_class=per_class, thresholds=thresholds)
    return reports


def _bundle_version(output: Path, files: Sequence[str], spec: FeatureSpec) -> str:
    digest = hashlib.sha256(json.dumps(spec.to_dict(), sort_keys=True).encode("utf-8"))
    for name in files:
        digest.update((output / name).read_bytes())
    return digest.hexdigest()[:12]


def _rounded(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if v is None or np.isnan(v) else round(float(v), 6)) for k, v in values.items()}


def _head_metadata(report: HeadReport, *, with_model: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "labels": report.labels,
        "thresholds": {k: round(v, 6) for k, v in report.thresholds.items()},
        "metrics": _rounded(report.metrics),
        "per_class": {label: _rounded(values) for label, values in report.per_class.items()},
    }
    if with_model:
        entry.update(model_file=with_model, temperature=round(report.temperature, 6),
                     best_iteration=report.best_iteration)
    return entry


def _write_metadata(report: TrainReport, data: LabelledData, features: PreparedFeatures, config: TrainConfig,
                    provenance: dict[str, Any] | None) -> None:
    output = report.output
    metadata = {
        "name": MODEL_NAME,
        "version": report.version,
        "feature_spec": features.spec.to_dict(),
        "history_file": HISTORY_FILE,
        "heads": {head: _head_metadata(r, with_model=f"{head}.txt") for head, r in report.heads.items()},
        "baselines": {
            name: {head: _head_metadata(r, with_model=None) for head, r in heads.items()}
            for name, heads in report.baselines.items()
        },
        "target_precision": config.target_precision,
        "rows": report.rows,
        "label_sources": data.sources,
        "unlabelled_exceptions": data.unlabelled,
        "simulator_ceiling": data.ceiling,
        "provenance": provenance or {},
        "train_config": asdict(config),
    }
    (output / "bundle.json").write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n",
                                        encoding="utf-8")


def train_bundle(
    data: LabelledData,
    output: Path,
    *,
    config: TrainConfig | None = None,
    provenance: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train every head on labelled exceptions, measure the baselines, and write the bundle folder."""
    config = config or TrainConfig()
    output.mkdir(parents=True, exist_ok=True)
    frame = data.frame
    if len(frame) < 50:
        raise ValueError(f"too few labelled exceptions to train: {len(frame)}; simulate more months or claims")

    def step(text: str) -> None:
        if progress:
            progress(text)

    step("building feature rows")
    features = prepare_features(data, config)
    (output / HISTORY_FILE).write_text(json.dumps(features.spec.history.to_dict(), sort_keys=True) + "\n",
                                       encoding="utf-8")

    report = TrainReport(output=output, version="", ceiling=dict(data.ceiling), features=features, frame=frame,
                         train_config=config)
    for head, column in HEAD_LABEL_COLUMNS.items():
        step(f"training the {head} head")
        head_data = _head_data(frame[column], config)
        report.heads[head], report.evaluations[head] = _train_head(head, features, head_data, config, output)
        if config.baselines:
            step(f"measuring the baselines of the {head} head")
            for name, baseline_report in _evaluate_baselines(head, features, head_data, config).items():
                report.baselines.setdefault(name, {})[head] = baseline_report

    report.version = _bundle_version(output, [*(f"{head}.txt" for head in report.heads), HISTORY_FILE],
                                     features.spec)
    split = time_split(len(frame), config)
    report.rows = {name: s.stop - s.start for name, s in zip(("train", "valid", "test"), split, strict=True)}
    _write_metadata(report, data, features, config, provenance)
    return report
