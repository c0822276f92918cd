"""Log a training run to MLflow: parameters, metrics, figures and the bundle as a registered model.

The tracking store is whatever MLflow resolves: ``MLFLOW_TRACKING_URI`` when it is set, otherwise
MLflow's local default (``sqlite:///mlflow.db`` in the working directory for MLflow 3.x).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import shap  # noqa: E402

from training.mlflow_model import REGISTERED_MODEL_NAME, log_bundle  # noqa: E402
from training.plots import calibration_figure, confusion_figure, shap_summary_figure  # noqa: E402
from training.registry import ChampionDecision, promote_if_better  # noqa: E402
from training.train import TrainReport  # noqa: E402

logger = logging.getLogger(__name__)

__all__ = ["EXPERIMENT_NAME", "TrackedRun", "log_training_run", "report_metrics"]

EXPERIMENT_NAME = "claims-triage"
SHAP_SAMPLE_ROWS = 300


@dataclass(frozen=True)
class TrackedRun:
    """The MLflow run of a training, the registered version and the champion decision."""

    run_id: str
    experiment_id: str
    model_version: str | None
    champion: ChampionDecision | None


def report_metrics(report: TrainReport) -> dict[str, float]:
    """Flatten a training report into MLflow metric names, e.g. ``type.macro_f1`` or ``baseline.majority.type.ece``."""
    metrics: dict[str, float] = {}

    def add(prefix: str, values: dict[str, float]) -> None:
        for key, value in values.items():
            if value is not None and not math.isnan(value):
                metrics[f"{prefix}.{key}"] = float(value)

    for head, head_report in report.heads.items():
        add(head, head_report.metrics)
        for label, values in head_report.per_class.items():
            add(f"{head}.class.{label}", {k: values[k] for k in ("precision", "recall")})
    for baseline, heads in report.baselines.items():
        for head, head_report in heads.items():
            add(f"baseline.{baseline}.{head}", head_report.metrics)
    for key in ("root_cause_accuracy", "root_cause_accuracy_holdout", "true_root_cause_accuracy"):
        value = report.ceiling.get(key)
        if isinstance(value, (int, float)):
            metrics[f"ceiling.{key}"] = float(value)
    return metrics


def _log_figures(report: TrainReport) -> None:
    for head, evaluation in report.evaluations.items():
        figure = confusion_figure(evaluation.y_test, evaluation.probabilities, evaluation.labels,
                                  f"{head}: confusion on held-out rows")
        mlflow.log_figure(figure, f"plots/confusion_{head}.png")
        plt.close(figure)
        figure = calibration_figure(evaluation.y_test, evaluation.probabilities, f"{head}: calibration")
        mlflow.log_figure(figure, f"plots/calibration_{head}.png")
        plt.close(figure)

    evaluation = report.evaluations.get("type")
    if evaluation is None or report.features is None:
        return
    rows = evaluation.test_idx[:SHAP_SAMPLE_ROWS]
    matrix = report.features.matrix[rows]
    values = np.asarray(shap.TreeExplainer(evaluation.booster).shap_values(matrix))
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    figure = shap_summary_figure(values, matrix, report.features.spec.columns, evaluation.labels,
                                 "type: mean |SHAP| on held-out rows")
    mlflow.log_figure(figure, "plots/shap_summary_type.png")
    plt.close(figure)


def log_training_run(
    report: TrainReport,
    *,
    params: dict[str, Any] | None = None,
    registered_model_name: str = REGISTERED_MODEL_NAME,
    experiment_name: str = EXPERIMENT_NAME,
    promote: bool = True,
) -> TrackedRun:
    """Log one training as one MLflow run, register its bundle and move the champion alias if it wins."""
    mlflow.set_experiment(experiment_name)
    with mlflow.start_run(run_name=f"bundle-{report.version}") as run:
        mlflow.log_params({**{f"train.{k}": v for k, v in asdict(report.train_config).items()},
                           **(params or {}), "bundle_version": report.version,
                           **{f"rows.{k}": v for k, v in report.rows.items()}})
        mlflow.log_metrics(report_metrics(report))
        mlflow.log_dict(report.ceiling, "ceiling.json")
        _log_figures(report)
        version = log_bundle(report.output, registered_model_name=registered_model_name)
        mlflow.MlflowClient().set_model_version_tag(registered_model_name, version.version, "bundle_version",
                                                    report.version)
        decision = None
        if promote:
            decision = promote_if_better(version.version, report.output, report.test_payloads(),
                                         report.test_labels("type"), registered_model_name)
            mlflow.set_tag("champion_decision", decision.reason)
            if decision.champion_macro_f1 is not None:
                mlflow.log_metric("champion.type.macro_f1_on_this_holdout", decision.champion_macro_f1)
            mlflow.log_metric("serving.type.macro_f1_on_this_holdout", decision.new_macro_f1)
    return TrackedRun(run_id=run.info.run_id, experiment_id=run.info.experiment_id,
                      model_version=str(version.version), champion=decision)
