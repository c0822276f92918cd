from decimal import Decimal

from tests.factories import make_claim, make_payment
from workflow.matching import match_payment


def test_payment_matches_its_claim_by_id():
    claim = make_claim()
    match = match_payment(make_payment(), {"CLM-1": [claim]})
    assert match.status == "matched"
    assert match.claim is claim
    assert match.key == "claim_id+payer"


def test_payment_without_claim_is_unmatched():
    match = match_payment(make_payment(claim_id="UNKNOWN"), {"CLM-1": [make_claim()]})
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
    assert len(match.candidates) == 2


def test_charge_breaks_a_claim_id_tie():
    first = make_claim(total_charge=Decimal("100.00"))
    second = make_claim(total_charge=Decimal("250.00"))
    match = match_payment(make_payment(), {"CLM-1": [first, second]})
    assert match.status == "matched"
    assert match.claim is first
    assert match.key == "claim_id+charge"
