"""Recognise what a claim payment is (paid, denial, forwarded, reversal) and pair reversals.

CLP02 status codes used here: 1, 2 and 3 processed as primary, secondary or tertiary; 4 denied;
19, 20 and 21 processed and forwarded to another payer; 22 reversal of a previous payment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from workflow.exceptions import REVERSAL_STATUS, is_denial
from workflow.records import ClaimPayment, ServicePayment

logger = logging.getLogger(__name__)

__all__ = [
    "CONTRACTUAL_REASONS",
    "FORWARDED_STATUSES",
    "PaymentRef",
    "ReversalPair",
    "denied_lines",
    "pair_reversals",
    "payment_category",
    "payment_ref",
]

ZERO = Decimal("0")
FORWARDED_STATUSES = frozenset({"19", "20", "21"})

CONTRACTUAL_REASONS = frozenset({"42", "45", "59", "94", "131", "253"})
"""CARCs that, under group CO, are a contract or statute reducing the allowed amount (fee schedule,
multiple-procedure discount, negotiated discount, sequestration), not a denial of the service."""


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """The identity and amounts of a claim payment, read in this run or stored by an earlier one."""

    document_id: str
    segment_index: int | None
    claim_id: str
    payer_id: str | None
    payer_claim_id: str | None
    status: str
    charge: Decimal
    paid: Decimal


@dataclass(frozen=True, slots=True)
class ReversalPair:
    """A reversal (CLP02 22), the payment it takes back and the corrected payment that follows.

    ``original`` is None when no earlier payment with the negated amounts is known, and
    ``corrected`` is None when the payer has not sent the new payment (yet).
    """

    reversal: PaymentRef
    original: PaymentRef | None
    corrected: PaymentRef | None


def payment_ref(payment: ClaimPayment) -> PaymentRef:
    """Return the identity and amounts of a claim payment read in this run."""
    return PaymentRef(
        document_id=payment.source.document_id,
        segment_index=payment.source.segment_index,
        claim_id=payment.claim_id,
        payer_id=payment.payer_id,
        payer_claim_id=payment.payer_claim_id,
        status=payment.status,
        charge=payment.charge,
        paid=payment.paid,
    )


def payment_category(payment: ClaimPayment) -> str:
    """Return ``reversal``, ``denial``, ``forwarded``, ``zero_paid`` or ``paid``."""
    if payment.status == REVERSAL_STATUS:
        return "reversal"
    if is_denial(payment):
        return "denial"
    if payment.status in FORWARDED_STATUSES:
        return "forwarded"
    if payment.paid == ZERO:
        return "zero_paid"
    return "paid"


def _is_denied_line(service: ServicePayment) -> bool:
    if service.paid != ZERO or service.charge == ZERO:
        return False
    return any(
        adjustment.amount != ZERO
        and adjustment.group != "PR"
        and not (adjustment.group == "CO" and adjustment.reason in CONTRACTUAL_REASONS)
        for adjustment in service.adjustments
    )


def denied_lines(payment: ClaimPayment) -> list[int]:
    """Return the positions of lines the payer paid nothing on for a reason other than contract or patient share."""
    return [index for index, service in enumerate(payment.service_payments) if _is_denied_line(service)]


def _reverses(reversal: PaymentRef, candidate: PaymentRef) -> bool:
    return (
        candidate.status != REVERSAL_STATUS
        and candidate.claim_id == reversal.claim_id
        and candidate.payer_id == reversal.payer_id
        and candidate.paid == -reversal.paid
        and candidate.charge == -reversal.charge
    )


def _find_original(reversal: PaymentRef, pool: Sequence[PaymentRef], used: set[PaymentRef]) -> PaymentRef | None:
    candidates = [c for c in pool if c not in used and _reverses(reversal, c)]
    # The payer repeats its control number (CLP07) on the reversal, so prefer the payment that has it.
    same_control = [c for c in candidates if reversal.payer_claim_id and c.payer_claim_id == reversal.payer_claim_id]
    chosen = (same_control or candidates or [None])[0]
    return chosen


def pair_reversals(payments: Sequence[ClaimPayment], stored: Sequence[PaymentRef] = ()) -> dict[PaymentRef, ReversalPair]:
    """Pair each reversal in ``payments`` with the payment it reverses and its corrected payment.

    The original is looked for among this run's payments first, then among ``stored`` (payments of
    earlier runs); each payment is reversed at most once. The corrected payment is the next
    non-reversal payment of the same claim and payer after the reversal in ``payments``.
    """
    refs = [payment_ref(payment) for payment in payments]
    used: set[PaymentRef] = set()
    pairs: dict[PaymentRef, ReversalPair] = {}
    for position, ref in enumerate(refs):
        if ref.status != REVERSAL_STATUS:
            continue
        original = _find_original(ref, refs, used) or _find_original(ref, stored, used)
        if original is not None:
            used.add(original)
        corrected = next(
            (
                later for later in refs[position + 1:]
                if later.status != REVERSAL_STATUS and later.claim_id == ref.claim_id
                and later.payer_id == ref.payer_id and later != original
            ),
            None,
        )
        pairs[ref] = ReversalPair(ref, original, corrected)
    paired = sum(1 for pair in pairs.values() if pair.original is not None)
    logger.info("paired %d of %d reversals with the payment they reverse", paired, len(pairs))
    return pairs
