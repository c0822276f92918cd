import datetime as dt
from decimal import Decimal

from tests.factories import denied_payment, make_claim, make_payment, make_service_payment, make_source
from workflow.exceptions import exceptions_from_findings, exceptions_from_matches, is_denial
from workflow.matching import match_payment
from workflow.records import Adjustment, Finding, Severity


def _exceptions_for(payment, claims=None):
    claims = claims if claims is not None else [make_claim()]
    match = match_payment(payment, {c.claim_id: [c] for c in claims})
    return exceptions_from_matches([match], {(c.claim_id, c.payer_id): c for c in claims})


def test_paid_claim_raises_no_exception():
    assert _exceptions_for(make_payment()) == []


def test_denial_carries_every_carc_and_rarc():
    (exception,) = _exceptions_for(denied_payment())
    assert exception.kind == "denial"
    assert exception.carc_codes == ("197",)
    assert exception.group_codes == ("CO",)
    assert exception.rarc_codes == ("N30",)
    assert exception.amount_at_risk == Decimal("100.00")
    assert exception.diagnosis_codes == ("E119",)


def test_denial_keeps_every_code_of_several():
    line = make_service_payment(paid=Decimal("0"), remark_codes=("N30", "M51"), adjustments=(
        Adjustment("CO", "197", Decimal("60.00")), Adjustment("PR", "204", Decimal("40.00"))))
    payment = denied_payment(service_payments=(line,), remark_codes=("MA130",))
    (exception,) = _exceptions_for(payment)
    assert exception.carc_codes == ("197", "204")
    assert exception.group_codes == ("CO", "PR")
    assert set(exception.rarc_codes) == {"MA130", "N30", "M51"}
    assert exception.amount_at_risk == Decimal("100.00")


def test_zero_paid_without_denial_codes_is_zero_paid():
    payment = make_payment(paid=Decimal("0"), service_payments=(), adjustments=(Adjustment("OA", "23", Decimal("100")),))
    (exception,) = _exceptions_for(payment)
    assert exception.kind == "zero_paid"


def test_unmatched_payment_becomes_exception():
    (exception,) = _exceptions_for(make_payment(claim_id="NOPE", patient_id="MEM9999"))
    assert exception.kind == "unmatched_payment"
    assert exception.code == "match.no_claim"


def test_suggested_claim_is_unmatched_with_evidence():
    (exception,) = _exceptions_for(make_payment(claim_id="NOPE"))
    assert exception.kind == "unmatched_payment"
    assert exception.code == "match.claim_id_differs"
    assert exception.evidence["suggested_claim"]["claim_id"] == "CLM-1"
    assert exception.evidence["match_key"] == "patient+service_date+charge"


def test_ambiguous_match_lists_candidates():
    claims = [make_claim(), make_claim()]
    match = match_payment(make_payment(), {"CLM-1": claims})
    (exception,) = exceptions_from_matches([match])
    assert exception.kind == "ambiguous_match"
    assert [c["claim_id"] for c in exception.evidence["candidates"]] == ["CLM-1", "CLM-1"]


def test_reversal_is_not_a_denial():
    reversal = make_payment(status="22", paid=Decimal("-80.00"), charge=Decimal("-100.00"))
    assert not is_denial(reversal)
    assert _exceptions_for(reversal) == []


def test_exception_ids_are_stable_across_reads():
    first = _exceptions_for(denied_payment())[0].exception_id
    second = _exceptions_for(denied_payment())[0].exception_id
    assert first == second


def test_rule_finding_becomes_validation_exception():
    claim = make_claim()
    finding = Finding(Severity.ERROR, "rule.npi_check_digit", "Billing NPI fails its check digit.",
                      make_source(segment_index=9), element="billing_npi", value="1234567890",
                      expected="a valid check digit", claim_id="CLM-1", rule_set_version="2026.12")
    (exception,) = exceptions_from_findings([finding], {"CLM-1": claim}, dt.date(2026, 11, 1))
    assert exception.kind == "validation"
    assert exception.evidence["value"] == "1234567890"
    assert exception.evidence["rule_set_version"] == "2026.12"
    assert exception.amount_at_risk == claim.total_charge
