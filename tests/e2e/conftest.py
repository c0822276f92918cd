"""Fixtures for tests that run the whole flow: a small simulated month and a model bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.model import TriageModel
from serving.settings import DEFAULT_MODEL_PATH


@pytest.fixture(scope="session")
def simulated_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.simulator import SimulationConfig, simulate

    from training.invoices import generate_invoices

    folder = tmp_path_factory.mktemp("simulated")
    simulate(SimulationConfig(seed=11, months=1, claims_per_month=250), folder)
    generate_invoices(folder / "invoices", count=12, seed=11)
    return folder


@pytest.fixture(scope="session")
def triage_model() -> TriageModel:
    if not (DEFAULT_MODEL_PATH / "bundle.json").is_file():
        pytest.fail(f"the shipped model bundle is missing at {DEFAULT_MODEL_PATH}; build it with `make model`")
    return TriageModel.load(DEFAULT_MODEL_PATH)
