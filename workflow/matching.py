"""Match 835 claim payments to the 837 claims they pay.

The keys are tried in this order, and each match records the key that made it and a confidence:

1. claim id (CLP01) and payer: the claim the provider sent under that id to that payer;
2. the payer's claim control number (CLP07): a later payment on a claim that an earlier payment
   with the same CLP07 already matched, or a corrected claim that names it in ``REF*F8``;
3. patient, service date and billed amount: among claims sharing the claim id, or, when no claim
   has the id, among all known claims of the same patient and payer.

Claim ids are not unique in real remittances (several claims can share one, and masked files
collide), so a payment that still has more than one candidate is ambiguous and is never guessed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from workflow.records import ClaimPayment

logger = logging.getLogger(__name__)

__all__ = [
    "AUTO_POST_MIN_CONFIDENCE",
    "ClaimIndex",
    "ClaimRef",
    "KEY_CONFIDENCE",
    "PaymentMatch",
    "match_payment",
    "match_payments",
]


class ClaimRef(Protocol):
    """What matching needs to know of a claim, whether it was read in this run or stored earlier.

    Matching also reads ``patient_id``, ``service_date``, ``payer_claim_control_number`` and
    ``service_lines`` where a claim has them; a claim without them simply cannot match on them.
    """

    claim_id: str
    payer_id: str | None
    total_charge: Decimal


KEY_CONFIDENCE: dict[str, float] = {
    "claim_id+payer": 0.99,
    "claim_id": 0.9,
    "payer_claim_id": 0.95,
    "claim_id+patient+service_date+charge": 0.9,
    "patient+service_date+charge": 0.6,
}
"""Confidence of each claim-level key. A match by patient, date and charge alone, under another
claim id, is a suggestion for a person and stays below :data:`AUTO_POST_MIN_CONFIDENCE`."""

AUTO_POST_MIN_CONFIDENCE = 0.9
"""The lowest match confidence at which a payment may be posted without a person."""


@dataclass(frozen=True, slots=True)
class PaymentMatch:
    """The outcome of matching one claim payment.

    ``status`` is ``matched`` (one claim), ``ambiguous`` (several candidates, listed) or
    ``unmatched`` (none); ``key`` names what made the match and ``confidence`` how sure it is.
    """

    payment: ClaimPayment
    status: str
    key: str | None
    claim: ClaimRef | None
    candidates: tuple[ClaimRef, ...]
    confidence: float = 0.0

    @property
    def claim_id_differs(self) -> bool:
        """True when the matched claim carries another claim id than the payment (CLP01)."""
        return self.claim is not None and self.claim.claim_id != self.payment.claim_id


def _attribute(claim: Any, name: str) -> Any:
    return getattr(claim, name, None)


class ClaimIndex:
    """Known claims indexed by claim id, by payer claim control number and by patient.

    ``link_payer_claim_id`` records which claim an earlier payment with a given CLP07 paid, so a
    later payment (a reversal or a correction) finds the same claim.
    """

    def __init__(self, claims: Iterable[ClaimRef] = ()) -> None:
        self.by_id: dict[str, list[ClaimRef]] = defaultdict(list)
        self.by_patient: dict[str, list[ClaimRef]] = defaultdict(list)
        self.by_payer_claim_id: dict[str, list[ClaimRef]] = defaultdict(list)
        for claim in claims:
            self.add(claim)

    @classmethod
    def from_mapping(cls, claims_by_id: Mapping[str, Sequence[ClaimRef]]) -> ClaimIndex:
        """Build an index from claims keyed by claim id, the form earlier callers pass."""
        return cls(claim for refs in claims_by_id.values() for claim in refs)

    def add(self, claim: ClaimRef) -> None:
        """Index one claim under its id, its patient and the control number of the claim it corrects."""
        self.by_id[claim.claim_id].append(claim)
        patient = _attribute(claim, "patient_id")
        if patient:
            self.by_patient[patient].append(claim)
        corrected = _attribute(claim, "payer_claim_control_number")
        if corrected:
            self._link(corrected, claim)

    def link_payer_claim_id(self, payer_claim_id: str | None, claim: ClaimRef) -> None:
        """Remember that the payment with control number ``payer_claim_id`` paid ``claim``."""
        if payer_claim_id:
            self._link(payer_claim_id, claim)

    def _link(self, payer_claim_id: str, claim: ClaimRef) -> None:
        linked = self.by_payer_claim_id[payer_claim_id]
        if not any(existing is claim for existing in linked):
            linked.append(claim)


def _unique(claims: Iterable[ClaimRef]) -> list[ClaimRef]:
    seen: dict[int, ClaimRef] = {}
    for claim in claims:
        seen.setdefault(id(claim), claim)
    return list(seen.values())


def _narrow_by_payer(payment: ClaimPayment, candidates: Sequence[ClaimRef]) -> list[ClaimRef]:
    same_payer = [c for c in candidates if payment.payer_id and c.payer_id == payment.payer_id]
    return same_payer or list(candidates)


def _same_service(payment: ClaimPayment, claim: ClaimRef) -> bool:
    """True when patient, first service date and billed amount all agree, where both sides have them."""
    patient = _attribute(claim, "patient_id")
    if payment.patient_id and patient and payment.patient_id != patient:
        return False
    claim_date: dt.date | None = _attribute(claim, "service_date")
    if payment.service_date and claim_date and payment.service_date != claim_date:
        return False
    # A reversal negates every amount, so the billed amount is compared without its sign.
    return abs(payment.charge) == abs(claim.total_charge)


def _matched(payment: ClaimPayment, key: str, claim: ClaimRef, candidates: Sequence[ClaimRef]) -> PaymentMatch:
    return PaymentMatch(payment, "matched", key, claim, tuple(candidates), KEY_CONFIDENCE[key])


def _by_payer_claim_id(payment: ClaimPayment, index: ClaimIndex, candidates: Sequence[ClaimRef]) -> list[ClaimRef]:
    if not payment.payer_claim_id:
        return []
    linked = _narrow_by_payer(payment, index.by_payer_claim_id.get(payment.payer_claim_id, []))
    if candidates:
        linked = [claim for claim in linked if any(claim is c for c in candidates)]
    return _unique(linked)


def match_payment(
    payment: ClaimPayment, claims_by_id: Mapping[str, Sequence[ClaimRef]] | ClaimIndex
) -> PaymentMatch:
    """Match one claim payment against the known claims (an index, or claims keyed by claim id)."""
    index = claims_by_id if isinstance(claims_by_id, ClaimIndex) else ClaimIndex.from_mapping(claims_by_id)
    candidates = _narrow_by_payer(payment, _unique(index.by_id.get(payment.claim_id, ())))

    if len(candidates) == 1:
        claim = candidates[0]
        key = "claim_id+payer" if payment.payer_id and claim.payer_id == payment.payer_id else "claim_id"
        return _matched(payment, key, claim, candidates)

    linked = _by_payer_claim_id(payment, index, candidates)
    if len(linked) == 1:
        return _matched(payment, "payer_claim_id", linked[0], candidates or linked)

    if candidates:
        same_service = [claim for claim in candidates if _same_service(payment, claim)]
        if len(same_service) == 1:
            return _matched(payment, "claim_id+patient+service_date+charge", same_service[0], candidates)
        return PaymentMatch(payment, "ambiguous", None, None, tuple(candidates))

    # No claim has this id: the id may be mistyped, so look for the same patient's claim with the
    # same service date and charge. Such a match is only a suggestion (see KEY_CONFIDENCE).
    same_patient = _unique(index.by_patient.get(payment.patient_id or "", ()))
    same_patient = [c for c in same_patient if not payment.payer_id or c.payer_id in (None, payment.payer_id)]
    same_service = [claim for claim in same_patient if _same_service(payment, claim)]
    if len(same_service) == 1:
        return _matched(payment, "patient+service_date+charge", same_service[0], same_service)
    if len(same_service) > 1:
        return PaymentMatch(payment, "ambiguous", None, None, tuple(same_service))
    return PaymentMatch(payment, "unmatched", None, None, ())


def match_payments(
    payments: Sequence[ClaimPayment], claims_by_id: Mapping[str, Sequence[ClaimRef]] | ClaimIndex
) -> list[PaymentMatch]:
    """Match every claim payment in order; the result is in the order of ``payments``.

    Each confident match links its CLP07 to the claim, so a later payment in the same list with the
    same control number (a reversal, a correction) finds the claim even when its id is shared.
    """
    index = claims_by_id if isinstance(claims_by_id, ClaimIndex) else ClaimIndex.from_mapping(claims_by_id)
    matches = []
    for payment in payments:
        match = match_payment(payment, index)
        if match.claim is not None and match.confidence >= AUTO_POST_MIN_CONFIDENCE:
            index.link_payer_claim_id(payment.payer_claim_id, match.claim)
        matches.append(match)

    unmatched = sum(1 for m in matches if m.status == "unmatched")
    ambiguous = sum(1 for m in matches if m.status == "ambiguous")
    logger.info("matched %d claim payments: %d unmatched, %d ambiguous", len(matches), unmatched, ambiguous)
    return matches
