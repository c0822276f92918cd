"""Match 835 claim payments to the 837 claims they pay.

A payment matches its claim by claim id (CLP01 against CLM01). Claim ids are not unique in real
remittances, so when several claims share the id the payer narrows the candidates; a payment
that still has more than one candidate is ambiguous and is never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from workflow.records import ClaimPayment

logger = logging.getLogger(__name__)

__all__ = ["ClaimRef", "PaymentMatch", "match_payments"]


class ClaimRef(Protocol):
    """What matching needs to know of a claim, whether it was read in this run or stored earlier."""

    claim_id: str
    payer_id: str | None
    total_charge: Decimal


@dataclass(frozen=True, slots=True)
class PaymentMatch:
    """The outcome of matching one claim payment.

    ``status`` is ``matched`` (one claim), ``ambiguous`` (several candidates, listed) or
    ``unmatched`` (none); ``key`` names what made the match.
    """

    payment: ClaimPayment
    status: str
    key: str | None
    claim: ClaimRef | None
    candidates: tuple[ClaimRef, ...]


def _narrow_by_payer(payment: ClaimPayment, candidates: Sequence[ClaimRef]) -> list[ClaimRef]:
    same_payer = [c for c in candidates if payment.payer_id and c.payer_id == payment.payer_id]
    return same_payer or list(candidates)


def match_payment(payment: ClaimPayment, claims_by_id: Mapping[str, Sequence[ClaimRef]]) -> PaymentMatch:
    """Match one claim payment against the known claims, keyed by claim id."""
    candidates = list(claims_by_id.get(payment.claim_id, ()))
    if not candidates:
        return PaymentMatch(payment, "unmatched", None, None, ())

    narrowed = _narrow_by_payer(payment, candidates)
    if len(narrowed) == 1:
        key = "claim_id+payer" if narrowed[0].payer_id == payment.payer_id else "claim_id"
        return PaymentMatch(payment, "matched", key, narrowed[0], tuple(narrowed))

    # Several claims share the id: a later issue adds tie-breakers (payer claim control number,
    # patient and dates); until then the payment is listed with its candidates for a person.
    same_charge = [c for c in narrowed if c.total_charge == payment.charge]
    if len(same_charge) == 1:
        return PaymentMatch(payment, "matched", "claim_id+charge", same_charge[0], tuple(narrowed))
    return PaymentMatch(payment, "ambiguous", None, None, tuple(narrowed))


def match_payments(
    payments: Sequence[ClaimPayment], claims_by_id: Mapping[str, Sequence[ClaimRef]]
) -> list[PaymentMatch]:
    """Match every claim payment; the result is in the order of ``payments``."""
    matches = [match_payment(payment, claims_by_id) for payment in payments]
    unmatched = sum(1 for m in matches if m.status == "unmatched")
    ambiguous = sum(1 for m in matches if m.status == "ambiguous")
    logger.info("matched %d claim payments: %d unmatched, %d ambiguous", len(matches), unmatched, ambiguous)
    return matches
