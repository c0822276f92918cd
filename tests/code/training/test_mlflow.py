"""MLflow: one run per training, one registered pyfunc model, the champion alias and the CLI."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from serving.cli import app
from training.registry import CHAMPION_ALIAS, champion_version, list_versions, promote
from training.tracking import log_training_run


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """Point MLflow at an empty SQLite store in a temporary folder, artifacts included."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        mlflow.set_tracking_uri(uri)
        mlflow.create_experiment("claims-triage", artifact_location=(folder / "artifacts").as_uri())
        yield uri
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def first_run(tracking, small_bundle):
    return log_training_run(small_bundle)


@pytest.fixture(scope="module")
def second_run(first_run, small_bundle):
    # The same bundle again: equal scores on the same holdout must not move the alias.
    return log_training_run(small_bundle)


@pytest.fixture
def champion_restored(first_run):
    yield
    promote("1")


def _champion() -> str:
    return str(champion_version().version)


def test_first_version_becomes_champion(first_run):
    assert first_run.model_version == "1"
    assert first_run.champion.promoted
    assert _champion() == "1"


def test_run_logs_metrics_and_plots(first_run):
    client = mlflow.MlflowClient()
    run = client.get_run(first_run.run_id)
    assert "type.macro_f1" in run.data.metrics
    assert "baseline.carc_lookup.type.macro_f1" in run.data.metrics
    assert "ceiling.root_cause_accuracy_holdout" in run.data.metrics
    artifacts = {item.path for item in client.list_artifacts(first_run.run_id, "plots")}
    assert "plots/confusion_type.png" in artifacts
    assert "plots/calibration_type.png" in artifacts
    assert "plots/shap_summary_type.png" in artifacts


def test_equal_model_does_not_take_champion(second_run):
    assert second_run.model_version == "2"
    assert not second_run.champion.promoted
    assert _champion() == "1"


def test_promote_moves_alias(second_run, champion_restored):
    promote("2")
    assert _champion() == "2"


def test_promote_unknown_version_fails(first_run):
    with pytest.raises(LookupError, match="has no version"):
        promote("99")


def test_pyfunc_predicts_from_fields(first_run, small_history):
    model = mlflow.pyfunc.load_model(f"models:/claims-triage@{CHAMPION_ALIAS}")
    frame = pd.DataFrame(small_history.payloads[:3])
    result = model.predict(frame)
    assert list(result["exception_id"]) == [p["exception_id"] for p in small_history.payloads[:3]]
    for head in ("type", "priority", "resolution"):
        assert result[head].notna().all(), head
        assert json.loads(result[f"{head}_probabilities"].iloc[0]), head


def test_pyfunc_predicts_from_json_column(first_run, small_history):
    model = mlflow.pyfunc.load_model("models:/claims-triage/1")
    frame = pd.DataFrame({"exception": [json.dumps(p) for p in small_history.payloads[:2]]})
    by_json = model.predict(frame)
    by_fields = model.predict(pd.DataFrame(small_history.payloads[:2]))
    assert list(by_json["type"]) == list(by_fields["type"])
    assert list(by_json["type_confidence"]) == list(by_fields["type_confidence"])


def test_pyfunc_rejects_bad_json(first_run):
    model = mlflow.pyfunc.load_model("models:/claims-triage/1")
    with pytest.raises(ValueError, match="not valid JSON"):
        model.predict(pd.DataFrame({"exception": ["{not json"]}))


def test_models_list_shows_champion(first_run):
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "champion: version 1" in result.output
    assert list_versions()[-1]["aliases"] == [CHAMPION_ALIAS]


def test_models_promote_command(second_run, champion_restored):
    result = CliRunner().invoke(app, ["models", "promote", "2"])
    assert result.exit_code == 0, result.output
    assert _champion() == "2"
