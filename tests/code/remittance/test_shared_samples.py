"""Reconciliation of the public 835 samples in ../shared/data/x12 (skipped where it is absent).

No sample may crash reconciliation, and every failed balancing equation must come out as an
exception whose evidence states the expected and actual amounts and their difference.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from workflow.flow import ReadDocument, detect, read_document
from workflow.records import Payment
from workflow.validation import load_rule_set

SHARED_X12 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "x12"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SHARED_X12.is_dir(), reason=f"reference samples not found at {SHARED_X12}"),
]

UNBALANCED_TRANSACTION_FILES = {
    "Inteligenz__X12Parser/_835/_4010/FromNth/835_DeIdent_01.dat",
    "Inteligenz__X12Parser/_835/_5010/ExampleFromNth.txt",
    "Inteligenz__X12Parser/_835/_5010/FromNth/835_WithMultipleInterchanges.txt",
    "kputnam__stupidedi/005010_X221/case/3a.edi",
}
"""Samples whose BPR02 differs from the claim payments less PLB: masked amounts such as 999.99."""


def remittance_samples() -> list[str]:
    if not SHARED_X12.is_dir():
        return []
    found = []
    for path in sorted(SHARED_X12.rglob("*")):
        if not path.is_file() or path.name == "SOURCES.tsv":
            continue
        if any(isinstance(record, Payment) for record in read_document(path).records):
            found.append(str(path.relative_to(SHARED_X12)))
    return found


SAMPLES = remittance_samples()


def reconcile_sample(relative: str):
    read: ReadDocument = read_document(SHARED_X12 / relative)
    return detect(documents=[read], rule_set=load_rule_set(), as_of=dt.date(2024, 1, 1))


@pytest.mark.parametrize("relative", SAMPLES)
def test_sample_imbalances_are_precise(relative: str) -> None:
    result = reconcile_sample(relative)
    imbalances = [e for e in result.exceptions if e.kind == "remittance_imbalance"]

    for exception in imbalances:
        evidence = exception.evidence
        difference = Decimal(evidence["difference"])
        assert Decimal(evidence["actual"]) - Decimal(evidence["expected"]) == difference
        assert difference != 0
        assert exception.amount_at_risk == abs(difference)
        assert exception.code in ("balance.claim", "balance.line", "balance.transaction", "balance.patient_responsibility")


@pytest.mark.parametrize("relative", SAMPLES)
def test_sample_transactions_balance_or_raise(relative: str) -> None:
    result = reconcile_sample(relative)
    unbalanced = [e for e in result.exceptions if e.code == "balance.transaction"]

    assert bool(unbalanced) == (relative in UNBALANCED_TRANSACTION_FILES)
    assert len(unbalanced) <= len(result.payments)


@pytest.mark.parametrize("relative", SAMPLES)
def test_sample_held_payments_post_nothing(relative: str) -> None:
    outcomes = reconcile_sample(relative).reconciliation.outcomes

    for outcome in outcomes:
        assert (outcome.journal_lines == []) or not outcome.hold_reasons


def test_repeated_st_control_numbers_still_balance() -> None:
    relative = "tastypackets__x12-parser/profee-multiple.edi"
    if relative not in SAMPLES:
        pytest.skip(f"sample {relative} not found under {SHARED_X12}")
    result = reconcile_sample(relative)

    assert len(result.payments) == 156
    assert [e for e in result.exceptions if e.code == "balance.transaction"] == []
