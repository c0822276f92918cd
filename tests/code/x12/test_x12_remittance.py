"""835 remittances: payment header, claim payments with reversals and denials, lines and PLB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from features.x12 import detect_transaction_kind, read_x12_bytes
from tests.code.x12.x12_builders import REMITTANCE_BODY, interchange, render_interchange, transaction
from workflow.records import ClaimPayment, Finding, Payment, ProviderAdjustment, Record


def remittance_text(body: list[str] = REMITTANCE_BODY) -> str:
    return render_interchange(interchange([transaction(body, set_id="835")], version="005010X221A1", functional_id="HP"))


def read_remittance(body: list[str] = REMITTANCE_BODY) -> list[Record]:
    return list(read_x12_bytes(remittance_text(body).encode(), "test.835"))


def claim_payments(records: list[Record]) -> list[ClaimPayment]:
    return [r for r in records if isinstance(r, ClaimPayment)]


def test_payment_header() -> None:
    payment = read_remittance()[0]
    assert isinstance(payment, Payment)
    assert payment.amount == Decimal("430.00")
    assert payment.credit_debit == "C"
    assert payment.method == "ACH"
    assert payment.payment_date == dt.date(2024, 3, 15)
    assert payment.trace_number == "TRACE001"
    assert payment.payer_id == "PAYER01"
    assert payment.payer_name == "ACME HEALTH"
    assert (payment.payee_id_qualifier, payment.payee_id) == ("XX", "1234567893")
    assert payment.production_date == dt.date(2024, 3, 14)


def test_claim_payment_fields() -> None:
    paid = claim_payments(read_remittance())[0]
    assert (paid.claim_id, paid.status) == ("CLAIM001", "1")
    assert (paid.charge, paid.paid, paid.patient_responsibility) == (Decimal("150.50"), Decimal("100.00"), Decimal("20.50"))
    assert (paid.filing_indicator, paid.payer_claim_id, paid.facility_type, paid.frequency_code) == ("12", "PCN001", "11", "1")
    assert paid.patient_id == "MEM001"
    assert (paid.statement_from, paid.statement_to, paid.received_date) == (
        dt.date(2024, 1, 2),
        dt.date(2024, 1, 3),
        dt.date(2024, 1, 10),
    )
    assert paid.amounts == {"AU": Decimal("120.00")}
    assert paid.remark_codes == ("MA01", "MA18")


def test_claim_payment_carries_header() -> None:
    paid = claim_payments(read_remittance())[0]
    assert (paid.payer_id, paid.payee_id, paid.trace_number) == ("PAYER01", "1234567893", "TRACE001")
    assert paid.payment_date == dt.date(2024, 3, 15)


def test_all_cas_triplets_read() -> None:
    paid = claim_payments(read_remittance())[0]
    assert [(a.group, a.reason, a.amount) for a in paid.adjustments] == [
        ("CO", "45", Decimal("20.00")),
        ("CO", "253", Decimal("2.00")),
        ("CO", "97", Decimal("8.00")),
    ]


def test_service_payment_with_svc06() -> None:
    line = claim_payments(read_remittance())[0].service_payments[0]
    assert (line.procedure_code, line.modifiers) == ("99213", ("25",))
    assert (line.charge, line.paid, line.units_paid) == (Decimal("100.50"), Decimal("70.00"), Decimal("1"))
    assert (line.original_procedure_code, line.original_units) == ("99214", Decimal("2"))
    assert line.line_control_number == "LINE001"
    assert line.remark_codes == ("N130",)
    assert line.amounts == {"B6": Decimal("90.50")}
    assert [(a.group, a.reason) for a in line.adjustments] == [("PR", "1"), ("CO", "45")]
    assert line.service_date_from == dt.date(2024, 1, 2)


def test_line_dates_fall_back_to_claim() -> None:
    line = claim_payments(read_remittance())[0].service_payments[1]
    assert (line.service_date_from, line.service_date_to) == (dt.date(2024, 1, 2), dt.date(2024, 1, 3))


def test_reversal_keeps_negative_amounts() -> None:
    reversal = claim_payments(read_remittance())[1]
    assert reversal.status == "22"
    assert (reversal.charge, reversal.paid) == (Decimal("-150.50"), Decimal("-100.00"))
    assert reversal.adjustments[0].amount == Decimal("-50.50")


def test_denial_with_mia_remarks() -> None:
    denial = claim_payments(read_remittance())[2]
    assert denial.status == "4"
    assert denial.paid == Decimal("0")
    assert denial.remark_codes == ("MA130", "MA61")


def test_plb_pairs_become_adjustments() -> None:
    adjustments = [r for r in read_remittance() if isinstance(r, ProviderAdjustment)]
    assert [(a.reason, a.reference, a.amount) for a in adjustments] == [
        ("WO", "REF99", Decimal("-5.00")),
        ("L6", None, Decimal("1.25")),
        ("FB", "OVP1", Decimal("-2.75")),
    ]
    assert adjustments[0].provider_id == "1234567893"
    assert adjustments[0].fiscal_period_date == dt.date(2024, 12, 31)
    assert adjustments[0].trace_number == "TRACE001"


def test_records_in_file_order() -> None:
    kinds = [type(r).__name__ for r in read_remittance()]
    assert kinds == ["Payment", "ClaimPayment", "ClaimPayment", "ClaimPayment", *["ProviderAdjustment"] * 3]


def test_invalid_paid_amount_skips_claim_payment() -> None:
    body = [s.replace("CLP*CLAIM002*4*80*0*", "CLP*CLAIM002*4*80*N/A*") for s in REMITTANCE_BODY]
    records = read_remittance(body)
    findings = [r for r in records if isinstance(r, Finding)]
    assert [c.claim_id for c in claim_payments(records)] == ["CLAIM001", "CLAIM001"]
    assert (findings[0].code, findings[0].element, findings[0].value) == ("x12.invalid_amount", "CLP04", "N/A")


def test_4010_six_digit_date() -> None:
    body = [s.replace("DTM*405*20240314", "DTM*405*240314") for s in REMITTANCE_BODY]
    payment = read_remittance(body)[0]
    assert isinstance(payment, Payment)
    assert payment.production_date == dt.date(2024, 3, 14)


def test_detects_835() -> None:
    assert detect_transaction_kind(remittance_text().encode()) == "835"
