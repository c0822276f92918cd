"""The simulator writes the contracts it paid by, and they reveal exactly its underpayments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from training.simulator import SimulationConfig, simulate
from workflow.flow import detect
from workflow.remittance import load_contracts
from workflow.validation import load_rule_set


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("simulated")
    simulate(SimulationConfig(seed=5, months=1, claims_per_month=300, underpayment_rate=0.05), folder)
    return folder


def test_simulator_writes_contracts_csv(simulated: Path) -> None:
    assert len(load_contracts(simulated / "contracts.csv")) > 0


def test_simulated_underpayments_are_detected(simulated: Path) -> None:
    contracts = load_contracts(simulated / "contracts.csv")
    result = detect([simulated / "claims", simulated / "remittances"], rule_set=load_rule_set(),
                    as_of=dt.date(2026, 11, 15), contracts=contracts)
    truth = pd.read_csv(simulated / "truth.csv", dtype=str)
    expected = set(truth.loc[truth["event"] == "underpayment", "claim_id"])
    detected = {e.claim_id for e in result.exceptions if e.kind == "underpayment"}

    assert expected
    assert detected == expected


def test_simulated_files_balance(simulated: Path) -> None:
    result = detect([simulated / "claims", simulated / "remittances"], rule_set=load_rule_set(),
                    as_of=dt.date(2026, 11, 15))

    assert [e for e in result.exceptions if e.kind == "remittance_imbalance"] == []
    assert [e for e in result.exceptions if e.code == "reversal.original_not_found"] == []
