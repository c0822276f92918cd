import datetime as dt
from decimal import Decimal

from tests.factories import make_claim, make_line, make_payment
from workflow.matching import ClaimIndex, match_payment, match_payments


def test_payment_matches_its_claim_by_id():
    claim = make_claim()
    match = match_payment(make_payment(), {"CLM-1": [claim]})
    assert match.status == "matched"
    assert match.claim is claim
    assert match.key == "claim_id+payer"
    assert match.confidence == 0.99


def test_payment_without_claim_is_unmatched():
    match = match_payment(make_payment(claim_id="UNKNOWN", patient_id="OTHER"), {"CLM-1": [make_claim()]})
    assert match.status == "unmatched"
    assert match.claim is None


def test_payer_narrows_shared_claim_ids():
    ours = make_claim(payer_id="PAYER1")
    other = make_claim(payer_id="PAYER2")
    match = match_payment(make_payment(), {"CLM-1": [other, ours]})
    assert match.status == "matched"
    assert match.claim is ours


def test_shared_claim_id_is_ambiguous_not_guessed():
    first = make_claim(total_charge=Decimal("100.00"))
    second = make_claim(total_charge=Decimal("100.00"))
    match = match_payment(make_payment(), {"CLM-1": [first, second]})
    assert match.status == "ambiguous"
    assert match.claim is None
    assert match.candidates == (first, second)


def test_charge_breaks_a_claim_id_tie():
    first = make_claim(total_charge=Decimal("100.00"))
    second = make_claim(total_charge=Decimal("250.00"))
    match = match_payment(make_payment(), {"CLM-1": [first, second]})
    assert match.status == "matched"
    assert match.claim is first
    assert match.key == "claim_id+patient+service_date+charge"


def test_patient_breaks_a_claim_id_tie():
    ours = make_claim()
    other = make_claim(patient_id="MEM0002")
    match = match_payment(make_payment(), {"CLM-1": [other, ours]})
    assert match.claim is ours


def test_service_date_breaks_a_claim_id_tie():
    ours = make_claim()
    later = make_claim(service_lines=(make_line(service_date_from=dt.date(2026, 10, 20)),))
    match = match_payment(make_payment(), {"CLM-1": [later, ours]})
    assert match.claim is ours


def test_later_payment_follows_control_number():
    first = make_claim(total_charge=Decimal("100.00"))
    second = make_claim(total_charge=Decimal("100.00"))
    index = ClaimIndex([first, second])
    index.link_payer_claim_id("PCN1", second)

    match = match_payment(make_payment(payer_claim_id="PCN1"), index)

    assert match.status == "matched"
    assert match.claim is second
    assert match.key == "payer_claim_id"


def test_corrected_claim_names_original_control_number():
    original = make_claim()
    corrected = make_claim(frequency_code="7", payer_claim_control_number="PCN1")
    match = match_payment(make_payment(payer_claim_id="PCN1"), ClaimIndex([original, corrected]))
    assert match.claim is corrected
    assert match.key == "payer_claim_id"


def test_mistyped_claim_id_is_only_suggested():
    claim = make_claim()
    match = match_payment(make_payment(claim_id="CLM-9"), ClaimIndex([claim]))
    assert match.status == "matched"
    assert match.key == "patient+service_date+charge"
    assert match.claim_id_differs
    assert match.confidence < 0.9


def test_confident_match_links_control_number_for_later_payments():
    claim = make_claim()
    twin = make_claim(patient_id="MEM0002")
    payments = [make_payment(payer_claim_id="PCN7"),
                make_payment(payer_claim_id="PCN7", patient_id=None, status="22",
                             charge=Decimal("-100.00"), paid=Decimal("-80.00"))]
    index = ClaimIndex([claim])

    first, second = match_payments(payments, index)
    index.add(twin)
    third = match_payment(payments[1], index)

    assert first.claim is claim
    assert second.claim is claim
    assert third.key == "payer_claim_id"
    assert third.claim is claim
