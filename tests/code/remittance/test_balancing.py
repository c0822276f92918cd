"""Balancing equations of claim payments, lines and transactions, with signs."""

from __future__ import annotations

from decimal import Decimal

from tests.factories import make_payment, make_service_payment
from tests.code.remittance.records import make_header, make_plb
from workflow.records import Adjustment
from workflow.remittance.balancing import check_claim_payment, check_transaction


def test_balanced_claim_payment_has_no_imbalance():
    assert check_claim_payment(make_payment()) == []


def test_negative_adjustments_balance_with_signs():
    line = make_service_payment(charge=Decimal("100.00"), paid=Decimal("110.00"),
                                adjustments=(Adjustment("CO", "45", Decimal("-10.00")),))
    payment = make_payment(paid=Decimal("110.00"), service_payments=(line,))

    assert check_claim_payment(payment) == []


def test_claim_imbalance_shows_expected_and_actual():
    payment = make_payment(paid=Decimal("75.00"), service_payments=(make_service_payment(paid=Decimal("75.00")),))

    claim_level = [i for i in check_claim_payment(payment) if i.level == "claim"]

    assert len(claim_level) == 1
    assert claim_level[0].expected == Decimal("20.00")
    assert claim_level[0].actual == Decimal("25.00")
    assert claim_level[0].difference == Decimal("5.00")


def test_line_imbalance_names_its_line():
    second = make_service_payment(line_control_number="L2", paid=Decimal("50.00"))
    payment = make_payment(charge=Decimal("200.00"), paid=Decimal("130.00"),
                           service_payments=(make_service_payment(), second))

    lines = [i for i in check_claim_payment(payment) if i.level == "line"]

    assert [i.line_index for i in lines] == [1]
    assert lines[0].difference == Decimal("30.00")


def test_patient_responsibility_must_equal_pr_adjustments():
    line = make_service_payment(adjustments=(Adjustment("CO", "45", Decimal("5.00")), Adjustment("PR", "2", Decimal("15.00"))))
    payment = make_payment(patient_responsibility=Decimal("10.00"), service_payments=(line,))

    (imbalance,) = check_claim_payment(payment)

    assert imbalance.level == "patient_responsibility"
    assert imbalance.expected == Decimal("15.00")
    assert imbalance.actual == Decimal("10.00")


def test_transaction_balances_with_plb():
    header = make_header(amount=Decimal("95.25"))
    plb = make_plb(amount=Decimal("-15.25"))
    payment = make_payment(paid=Decimal("80.00"))

    assert check_transaction(header, [payment], [plb]) is None


def test_transaction_imbalance_against_bpr():
    header = make_header(amount=Decimal("90.00"))

    imbalance = check_transaction(header, [make_payment(paid=Decimal("80.00"))], [])

    assert imbalance is not None
    assert imbalance.expected == Decimal("80.00")
    assert imbalance.actual == Decimal("90.00")
    assert imbalance.difference == Decimal("10.00")


def test_debit_bpr_counts_as_negative():
    header = make_header(amount=Decimal("80.00"), credit_debit="D")

    assert check_transaction(header, [make_payment(paid=Decimal("-80.00"))], []) is None
