"""The model registry: list versions, compare a new version with the champion, move the alias.

The ``champion`` alias marks the registered version that serving should use. A new version takes
the alias only when its type head scores a higher macro-F1 than the champion's on the new run's
held-out exceptions, both bundles loaded and run through the serving code path.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.evaluation import macro_f1
from training.mlflow_model import BUNDLE_ARTIFACT, REGISTERED_MODEL_NAME

logger = logging.getLogger(__name__)

__all__ = [
    "CHAMPION_ALIAS",
    "ChampionDecision",
    "champion_version",
    "download_bundle",
    "list_versions",
    "promote",
    "promote_if_better",
    "type_macro_f1",
]

CHAMPION_ALIAS = "champion"


@dataclass(frozen=True)
class ChampionDecision:
    """Whether a new version took the champion alias, with the scores that decided it."""

    promoted: bool
    new_version: str
    new_macro_f1: float
    champion_version: str | None
    champion_macro_f1: float | None
    reason: str


def champion_version(name: str = REGISTERED_MODEL_NAME, client: MlflowClient | None = None) -> ModelVersion | None:
    """Return the version with the champion alias, or None when no version has it."""
    client = client or MlflowClient()
    try:
        return client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except MlflowException:
        return None


def list_versions(name: str = REGISTERED_MODEL_NAME, client: MlflowClient | None = None) -> list[dict[str, Any]]:
    """Return every registered version, newest first, with aliases and the type head's macro-F1."""
    client = client or MlflowClient()
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException as error:
        raise LookupError(f"cannot list versions of {name!r} in {mlflow.get_tracking_uri()}: {error}") from error
    rows = []
    for found in sorted(versions, key=lambda v: int(v.version), reverse=True):
        # Search results leave the aliases out (MLflow 3.17), so each version is read in full.
        version = client.get_model_version(name, str(found.version))
        metrics: dict[str, float] = {}
        if version.run_id:
            try:
                metrics = client.get_run(version.run_id).data.metrics
            except MlflowException:
                logger.warning("run %s of %s version %s is missing", version.run_id, name, version.version)
        rows.append({
            "version": str(version.version),
            "aliases": sorted(version.aliases or []),
            "run_id": version.run_id,
            "created": version.creation_timestamp,
            "type_macro_f1": metrics.get("type.macro_f1"),
            "bundle_version": (version.tags or {}).get("bundle_version"),
        })
    return rows


def promote(version: str, name: str = REGISTERED_MODEL_NAME, client: MlflowClient | None = None) -> ModelVersion:
    """Give ``version`` the champion alias, whatever its scores; raise LookupError for an unknown version."""
    client = client or MlflowClient()
    try:
        model_version = client.get_model_version(name, str(version))
    except MlflowException as error:
        raise LookupError(f"{name!r} has no version {version!r} in {mlflow.get_tracking_uri()}; "
                          "list the versions with `triage models list`") from error
    client.set_registered_model_alias(name, CHAMPION_ALIAS, str(version))
    logger.info("moved alias %s of %s to version %s", CHAMPION_ALIAS, name, version)
    return model_version


def download_bundle(version: str, destination: Path, name: str = REGISTERED_MODEL_NAME) -> Path:
    """Download a registered version's bundle folder and return its path."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}",
                                                     dst_path=str(destination)))
    candidates = sorted(path.parent for path in local.rglob("bundle.json") if path.parent.name == BUNDLE_ARTIFACT)
    if not candidates:
        raise LookupError(f"{name!r} version {version} has no {BUNDLE_ARTIFACT}/bundle.json artifact; "
                          "it was not logged with training.mlflow_model.log_bundle")
    return candidates[0]


def type_macro_f1(bundle_dir: Path, payloads: Sequence[dict[str, Any]], labels: Sequence[str]) -> float:
    """Score a bundle's type head on labelled exceptions through the serving code path."""
    from serving.model import TriageModel

    model = TriageModel.load(bundle_dir)
    _, heads = model.predict(payloads, explain=False)
    predicted = [prediction.label for prediction in heads["type"]]
    vocabulary = {label: i for i, label in enumerate(sorted(set(labels) | set(predicted)))}
    return macro_f1(np.array([vocabulary[label] for label in labels]),
                    np.array([vocabulary[label] for label in predicted]))


def promote_if_better(
    new_version: str,
    new_bundle: Path,
    payloads: Sequence[dict[str, Any]],
    labels: Sequence[str],
    name: str = REGISTERED_MODEL_NAME,
    client: MlflowClient | None = None,
) -> ChampionDecision:
    """Move the champion alias to ``new_version`` when it beats the champion on the same holdout."""
    client = client or MlflowClient()
    new_score = type_macro_f1(new_bundle, payloads, labels)
    current = champion_version(name, client)
    if current is None:
        promote(new_version, name, client)
        return ChampionDecision(True, str(new_version), new_score, None, None, "no champion yet")

    with tempfile.TemporaryDirectory(prefix="triage-champion-") as folder:
        champion_bundle = download_bundle(str(current.version), Path(folder), name)
        champion_score = type_macro_f1(champion_bundle, payloads, labels)
    if new_score > champion_score:
        promote(new_version, name, client)
        reason = f"type macro-F1 {new_score:.4f} beats the champion's {champion_score:.4f}"
        return ChampionDecision(True, str(new_version), new_score, str(current.version), champion_score, reason)
    reason = f"type macro-F1 {new_score:.4f} does not beat the champion's {champion_score:.4f}"
    logger.info("version %s stays a challenger: %s", new_version, reason)
    return ChampionDecision(False, str(new_version), new_score, str(current.version), champion_score, reason)
