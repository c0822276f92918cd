"""Training writes a loadable, deterministic bundle with thresholds, baselines and metrics."""

from __future__ import annotations

import json

import pytest

from serving.model import TriageModel
from training.evaluation import NEVER_AUTO
from training.train import train_bundle

from .conftest import SMALL_CONFIG

HEADS = ("type", "priority", "resolution")
METRICS = ("macro_f1", "accuracy", "log_loss", "ece", "auto_route_share", "auto_route_precision")


def test_bundle_has_every_file(small_bundle):
    for name in ("bundle.json", "history.json", "type.txt", "priority.txt", "resolution.txt"):
        assert (small_bundle.output / name).is_file(), name


def test_bundle_loads_and_predicts(small_bundle, small_history):
    model = TriageModel.load(small_bundle.output)
    _, heads = model.predict(small_history.payloads[:5], explain=False)
    assert set(heads) == set(HEADS)
    assert len(heads["type"]) == 5


def test_every_head_reports_metrics(small_bundle):
    for head in HEADS:
        assert set(METRICS) <= set(small_bundle.heads[head].metrics), head


def test_per_class_has_precision_and_recall(small_bundle):
    for label, values in small_bundle.heads["type"].per_class.items():
        assert {"precision", "recall", "support"} <= set(values), label


def test_baselines_cover_every_head(small_bundle):
    assert set(small_bundle.baselines["majority"]) == set(HEADS)
    assert set(small_bundle.baselines["logistic_regression"]) == set(HEADS)
    assert set(small_bundle.baselines["carc_lookup"]) == {"type"}


def test_model_beats_majority_baseline(small_bundle):
    model = small_bundle.heads["type"].metrics["macro_f1"]
    majority = small_bundle.baselines["majority"]["type"].metrics["macro_f1"]
    assert model > majority


def test_thresholds_are_probabilities_or_never(small_bundle):
    for head in HEADS:
        for label, threshold in small_bundle.heads[head].thresholds.items():
            assert 0.0 <= threshold <= 1.0 or threshold == NEVER_AUTO, (head, label)


def test_metadata_names_labels_and_spec(small_bundle):
    metadata = json.loads((small_bundle.output / "bundle.json").read_text(encoding="utf-8"))
    assert metadata["feature_spec"]["features"]
    assert metadata["heads"]["type"]["labels"] == small_bundle.heads["type"].labels
    assert metadata["target_precision"] == SMALL_CONFIG.target_precision
    assert "root_cause_accuracy_holdout" in metadata["simulator_ceiling"]


def test_training_twice_writes_same_bytes(small_history, small_bundle, tmp_path):
    train_bundle(small_history, tmp_path, config=SMALL_CONFIG)
    for path in sorted(small_bundle.output.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_too_few_rows_is_rejected(small_history, tmp_path):
    from training.dataset import LabelledData

    tiny = LabelledData(frame=small_history.frame.head(10), unlabelled=0, ceiling={})
    with pytest.raises(ValueError, match="too few labelled exceptions"):
        train_bundle(tiny, tmp_path, config=SMALL_CONFIG)
