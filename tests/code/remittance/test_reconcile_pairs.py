"""Detection and reconciliation on small hand-written 837 and 835 pairs, one case each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tests.code.remittance.pairs import (
    CORRECTED,
    DENIED_CLAIM,
    FORWARDED_CLAIM,
    PAID_CLAIM,
    PARTLY_DENIED_CLAIM,
    REVERSAL,
    claim_text,
    remittance_text,
    write_pair,
)
from workflow.flow import DetectionResult, detect
from workflow.remittance import ContractRate, ContractTable, Tolerance
from workflow.validation import load_rule_set

AS_OF = dt.date(2024, 4, 1)


def run_detect(folder: Path, **options: object) -> DetectionResult:
    return detect([folder], rule_set=load_rule_set(), as_of=AS_OF, **options)  # type: ignore[arg-type]


def remittance_exceptions(result: DetectionResult) -> list:
    return [e for e in result.exceptions if e.kind != "validation"]


def contracts(allowed: str) -> ContractTable:
    return ContractTable([ContractRate("PAYER01", "99213", Decimal(allowed), None, dt.date(2024, 1, 1), None)])


def test_paid_claim_posts_three_entry_types(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    result = run_detect(tmp_path)
    (outcome,) = result.reconciliation.outcomes
    entries = {line.entry_type: line.amount for line in outcome.journal_lines}

    assert remittance_exceptions(result) == []
    assert outcome.posting == "posted"
    assert entries == {"payment": Decimal("100.00"), "contractual_adjustment": Decimal("30.00"),
                       "patient_responsibility": Decimal("20.50")}


def test_journal_lines_carry_gl_accounts(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    lines = run_detect(tmp_path).reconciliation.journal_lines
    accounts = {line.entry_type: (line.debit_account, line.credit_account) for line in lines}

    assert accounts["payment"] == ("1010", "1200")
    assert accounts["contractual_adjustment"] == ("4100", "1200")
    assert accounts["patient_responsibility"] == ("1210", "1200")


def test_line_matches_record_key_and_confidence(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    (outcome,) = run_detect(tmp_path).reconciliation.outcomes

    assert [m.key for m in outcome.line_matches] == ["line_control_number", "code+modifiers+service_date+charge"]
    assert [m.claim_line_number for m in outcome.line_matches] == [1, 2]
    assert outcome.match.key == "claim_id+payer"


def test_reversal_pairs_with_original_and_correction(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, REVERSAL, CORRECTED, amount="110.00")
    result = run_detect(tmp_path)
    original, reversal, corrected = result.reconciliation.outcomes

    assert reversal.category == "reversal"
    assert reversal.reversal is not None
    assert reversal.reversal.original.segment_index == original.payment.source.segment_index
    assert reversal.reversal.corrected.segment_index == corrected.payment.source.segment_index
    assert remittance_exceptions(result) == []


def test_reversal_undoes_original_lines(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, REVERSAL, CORRECTED, amount="110.00")
    original, reversal, _ = run_detect(tmp_path).reconciliation.outcomes
    totals = {line.entry_type: line.amount for line in original.journal_lines}
    undone = {line.entry_type: line.amount for line in reversal.journal_lines}

    assert undone == {entry: -amount for entry, amount in totals.items()}


def test_reversal_without_original_is_held(tmp_path: Path) -> None:
    write_pair(tmp_path, REVERSAL, amount="100.00", plb=[])
    text = (tmp_path / "remit_TRACE001_000000201.835").read_text().replace("BPR*I*100.00*C", "BPR*I*100.00*D")
    (tmp_path / "remit_TRACE001_000000201.835").write_text(text)
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.code == "reversal.original_not_found"
    assert result.reconciliation.outcomes[0].posting == "held"


def test_denial_is_never_written_off(tmp_path: Path) -> None:
    write_pair(tmp_path, DENIED_CLAIM, amount="0")
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.kind == "denial"
    assert exception.carc_codes == ("197",)
    assert exception.rarc_codes == ("N54",)
    assert exception.amount_at_risk == Decimal("150.50")
    assert result.reconciliation.journal_lines == []


def test_partly_denied_line_stays_open(tmp_path: Path) -> None:
    write_pair(tmp_path, PARTLY_DENIED_CLAIM, amount="70.00")
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.kind == "denial"
    assert exception.code == "payment.line_denied"
    assert exception.amount_at_risk == Decimal("50")
    assert "50" in exception.carc_codes
    assert "N115" in exception.rarc_codes
    assert result.reconciliation.journal_lines == []


def test_forwarded_claim_moves_balance_to_next_payer(tmp_path: Path) -> None:
    write_pair(tmp_path, FORWARDED_CLAIM, amount="100.00")
    (outcome,) = run_detect(tmp_path).reconciliation.outcomes
    entries = {line.entry_type for line in outcome.journal_lines}

    assert outcome.category == "forwarded"
    assert "forwarded_balance" in entries
    assert "patient_responsibility" not in entries


def test_underpayment_holds_payment_with_shortfall(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    result = run_detect(tmp_path, contracts=contracts("100.00"))
    (exception,) = remittance_exceptions(result)

    assert exception.kind == "underpayment"
    assert exception.code == "payment.underpaid"
    assert exception.amount_at_risk == Decimal("9.50")
    assert exception.evidence["expected_payment"] == "79.50"
    assert result.reconciliation.journal_lines == []


def test_payment_within_tolerance_is_not_underpaid(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    result = run_detect(tmp_path, contracts=contracts("91.00"), tolerance=Tolerance(Decimal("1.00"), Decimal("0")))

    assert remittance_exceptions(result) == []


def test_claim_imbalance_becomes_exception(tmp_path: Path) -> None:
    broken = [segment.replace("CAS*CO*45*20", "CAS*CO*45*25") for segment in PAID_CLAIM]
    write_pair(tmp_path, broken, amount="100.00")
    result = run_detect(tmp_path)
    by_code = {e.code: e for e in remittance_exceptions(result)}

    assert set(by_code) == {"balance.claim", "balance.line"}
    assert by_code["balance.claim"].evidence["expected"] == "55.50"
    assert by_code["balance.claim"].evidence["actual"] == "50.50"
    assert by_code["balance.claim"].evidence["difference"] == "-5.00"
    assert result.reconciliation.imbalance_total == Decimal("10.00")


def test_transaction_imbalance_holds_every_payment(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="120.00")
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.code == "balance.transaction"
    assert exception.kind == "remittance_imbalance"
    assert exception.evidence["difference"] == "20.00"
    assert result.reconciliation.outcomes[0].hold_reasons == ["balance.transaction"]


def test_plb_posts_against_cash(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="101.25", plb=["PLB*1234567893*20241231*L6*-1.25"])
    result = run_detect(tmp_path)
    plb_lines = result.reconciliation.provider_lines

    assert remittance_exceptions(result) == []
    assert [(line.amount, line.credit_account) for line in plb_lines] == [(Decimal("1.25"), "4500")]
    assert result.reconciliation.posting_variance == Decimal("0")


def test_resent_payment_is_duplicate_and_posted_once(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    resent = remittance_text(PAID_CLAIM, amount="100.00", control="000000999", line_break="\r\n")
    (tmp_path / "zz_resent.835").write_text(resent, encoding="utf-8")
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.kind == "duplicate_remittance"
    assert exception.evidence["original_in_store"] is False
    assert len(result.reconciliation.outcomes) == 1
    assert result.reconciliation.duplicate_claim_payments == 1
    assert result.reconciliation.posted_payments == 1


def test_known_payment_key_marks_duplicate(tmp_path: Path) -> None:
    write_pair(tmp_path, PAID_CLAIM, amount="100.00")
    known = {("PAYER01", "TRACE001", Decimal("100.00")): "f" * 64}
    result = run_detect(tmp_path, known_payments=known)

    assert [e.kind for e in remittance_exceptions(result)] == ["duplicate_remittance"]
    assert result.reconciliation.journal_lines == []


def test_shared_claim_ids_raise_ambiguous_match(tmp_path: Path) -> None:
    (tmp_path / "a.837").write_text(claim_text("000000101"), encoding="utf-8")
    (tmp_path / "b.837").write_text(claim_text("000000102"), encoding="utf-8")
    (tmp_path / "r.835").write_text(remittance_text(PAID_CLAIM, amount="100.00"), encoding="utf-8")
    result = run_detect(tmp_path)
    (exception,) = remittance_exceptions(result)

    assert exception.kind == "ambiguous_match"
    assert len(exception.evidence["candidates"]) == 2
    assert result.reconciliation.outcomes[0].hold_reasons == ["match.ambiguous"]


@pytest.mark.parametrize("status", ["19", "20", "21"])
def test_forwarded_statuses_are_recognised(tmp_path: Path, status: str) -> None:
    claim = [FORWARDED_CLAIM[0].replace("*19*", f"*{status}*"), *FORWARDED_CLAIM[1:]]
    write_pair(tmp_path, claim, amount="100.00")

    assert run_detect(tmp_path).reconciliation.outcomes[0].category == "forwarded"
