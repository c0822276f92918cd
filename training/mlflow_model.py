"""The model bundle as one MLflow pyfunc model, and the function that logs and registers it.

The pyfunc model carries the whole bundle folder (three LightGBM heads, thresholds, feature
specification, history snapshot and label sets) as an artifact. ``predict`` takes exceptions in
their JSON form and returns each head's label and probabilities, without SHAP explanations, so
``mlflow models serve`` serves requests with the same feature code as the triage service.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)

__all__ = ["BUNDLE_ARTIFACT", "REGISTERED_MODEL_NAME", "TriagePyfuncModel", "log_bundle", "payloads_from_frame"]

REGISTERED_MODEL_NAME = "claims-triage"
BUNDLE_ARTIFACT = "bundle"
MODEL_NAME_IN_RUN = "triage_model"
# Packages the pyfunc model imports at load time. The project itself is not on a package index,
# so a served model needs the project's environment: serve with `--env-manager local`.
RUNTIME_PACKAGES = ("mlflow", "lightgbm", "numpy", "pandas", "scipy", "shap", "scikit-learn", "pyyaml",
                    "simple-icd-10-cm")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def payloads_from_frame(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Read exceptions from a DataFrame: one column ``exception`` (JSON text or dict), or one column per field."""
    if "exception" in frame.columns:
        payloads = []
        for position, value in enumerate(frame["exception"]):
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as error:
                    raise ValueError(f"row {position}: the `exception` column is not valid JSON ({error}); "
                                     "send the exception's JSON form as text or as an object") from error
            if not isinstance(value, Mapping):
                raise ValueError(f"row {position}: the `exception` column contains {type(value).__name__}, "
                                 "expected a JSON object")
            payloads.append(dict(value))
        return payloads
    return [{key: _clean(value) for key, value in row.items()} for row in frame.to_dict(orient="records")]


class TriagePyfuncModel(mlflow.pyfunc.PythonModel):
    """Predict type, priority and resolution of exceptions with a bundle loaded from the model's artifacts."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Load the bundle folder that :func:`log_bundle` stored as the ``bundle`` artifact."""
        from serving.model import TriageModel

        self.model = TriageModel.load(context.artifacts[BUNDLE_ARTIFACT])

    # NOTE: model_input has no type hint on purpose. MLflow 3 turns a hint into an enforced input
    # schema, and this model accepts two shapes of DataFrame.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        """Return one row per exception: each head's label, its confidence and every class probability."""
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        payloads = payloads_from_frame(frame)
        _, heads = self.model.predict(payloads, explain=False)
        rows = []
        for i, payload in enumerate(payloads):
            row: dict[str, Any] = {"exception_id": payload.get("exception_id")}
            for head, predictions in heads.items():
                prediction = predictions[i]
                row[head] = prediction.label
                row[f"{head}_confidence"] = round(prediction.confidence, 6)
                row[f"{head}_probabilities"] = json.dumps(prediction.probabilities, sort_keys=True)
            rows.append(row)
        return pd.DataFrame(rows)


def _requirements() -> list[str]:
    pinned = []
    for package in RUNTIME_PACKAGES:
        try:
            pinned.append(f"{package}=={package_metadata.version(package)}")
        except package_metadata.PackageNotFoundError:
            pinned.append(package)
    return pinned


def log_bundle(bundle_dir: Path | str, *, registered_model_name: str = REGISTERED_MODEL_NAME) -> ModelVersion:
    """Log a bundle folder as one pyfunc model in the active run (or a new one) and register it.

    The logged copy of ``bundle.json`` gains ``mlflow_run_id``, so a model loaded from the registry
    can name its run; the folder on disk is left unchanged. Returns the new registered version.
    """
    bundle_dir = Path(bundle_dir)
    if not (bundle_dir / "bundle.json").is_file():
        raise FileNotFoundError(f"no model bundle at {bundle_dir}: bundle.json is missing; "
                                "build one with `triage train --output FOLDER`")
    active = mlflow.active_run()
    run = active or mlflow.start_run(run_name=f"bundle-{bundle_dir.name}")
    try:
        with tempfile.TemporaryDirectory(prefix="triage-bundle-") as staging:
            copy = Path(staging) / BUNDLE_ARTIFACT
            shutil.copytree(bundle_dir, copy)
            manifest = json.loads((copy / "bundle.json").read_text(encoding="utf-8"))
            manifest["mlflow_run_id"] = run.info.run_id
            (copy / "bundle.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            with warnings.catch_warnings():
                # MLflow warns when predict has no type hints. The NOTE on TriagePyfuncModel.predict says why.
                warnings.filterwarnings("ignore", message=".*type hints.*", category=UserWarning)
                info = mlflow.pyfunc.log_model(
                    name=MODEL_NAME_IN_RUN,
                    python_model=TriagePyfuncModel(),
                    artifacts={BUNDLE_ARTIFACT: str(copy)},
                    registered_model_name=registered_model_name,
                    pip_requirements=_requirements(),
                    metadata={"bundle_version": manifest.get("version")},
                )
    finally:
        if active is None:
            mlflow.end_run()
    version = MlflowClient().get_model_version(registered_model_name, str(info.registered_model_version))
    logger.info("registered %s version %s from run %s", registered_model_name, version.version, run.info.run_id)
    return version
