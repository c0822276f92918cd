"""Turn matched, balanced claim payments into journal lines for the posting outbox.

A claim payment that nothing holds produces one journal line per entry: the payment itself, and
its CAS adjustments summed by group and reason (CO as contractual adjustment, PR as patient
responsibility, or as a balance forwarded to the next payer when CLP02 is 19, 20 or 21, and any
other group as other adjustment). A reversal posts its own negated amounts, which undoes the
original's lines. A PLB amount posts as a provider adjustment with the opposite sign, because a
positive PLB reduces the cash paid.

Every line carries a posting key derived from the payment's content (payer, trace number, claim
ids, status and amounts), not from the file's bytes, so the same payment read from a re-sent
file produces the same keys and the outbox stores it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from workflow.records import ClaimPayment, ProviderAdjustment
from workflow.remittance.classify import FORWARDED_STATUSES
from workflow.remittance.gl import GlMapping

logger = logging.getLogger(__name__)

__all__ = ["JournalLine", "journal_lines_for_payment", "journal_lines_for_provider_adjustment"]

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One journal line: ``amount`` moves from ``credit_account`` to ``debit_account`` (negative undoes)."""

    line_id: str
    posting_key: str
    entry_type: str
    group_code: str
    reason_code: str
    debit_account: str
    credit_account: str
    amount: Decimal
    claim_id: str | None
    payer_id: str | None
    payer_claim_id: str | None
    trace_number: str | None
    document_id: str
    segment_index: int | None
    posting_date: dt.date | None


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:32]


def posting_key_for(payment: ClaimPayment, occurrence: int = 0) -> str:
    """The content key of a claim payment; ``occurrence`` tells identical payments of one transaction apart."""
    return "pay_" + _digest(
        payment.payer_id, payment.trace_number, payment.claim_id, payment.payer_claim_id,
        payment.status, payment.charge, payment.paid, occurrence,
    )


def _entry_type(group: str, status: str) -> str:
    if group == "CO":
        return "contractual_adjustment"
    if group == "PR":
        return "forwarded_balance" if status in FORWARDED_STATUSES else "patient_responsibility"
    return "other_adjustment"


def _line(
    posting_key: str, entry_type: str, group: str, reason: str, amount: Decimal, gl: GlMapping,
    payment: ClaimPayment | None, plb: ProviderAdjustment | None,
) -> JournalLine:
    account = gl.account_for(entry_type, group, reason)
    source = payment.source if payment is not None else plb.source  # type: ignore[union-attr]
    return JournalLine(
        line_id="jl_" + _digest(posting_key, entry_type, group, reason),
        posting_key=posting_key,
        entry_type=entry_type,
        group_code=group,
        reason_code=reason,
        debit_account=account.debit,
        credit_account=account.credit,
        amount=amount,
        claim_id=payment.claim_id if payment else None,
        payer_id=payment.payer_id if payment else plb.payer_id,  # type: ignore[union-attr]
        payer_claim_id=payment.payer_claim_id if payment else plb.reference,  # type: ignore[union-attr]
        trace_number=payment.trace_number if payment else plb.trace_number,  # type: ignore[union-attr]
        document_id=source.document_id,
        segment_index=source.segment_index,
        posting_date=payment.payment_date if payment else plb.fiscal_period_date,  # type: ignore[union-attr]
    )


def journal_lines_for_payment(payment: ClaimPayment, gl: GlMapping, occurrence: int = 0) -> list[JournalLine]:
    """Return the journal lines of one claim payment: the payment, then its adjustments by group and reason."""
    key = posting_key_for(payment, occurrence)
    lines = []
    if payment.paid != ZERO:
        lines.append(_line(key, "payment", "", "", payment.paid, gl, payment, None))

    totals: Counter[tuple[str, str]] = Counter()
    for adjustment in payment.all_adjustments:
        totals[(adjustment.group, adjustment.reason)] += adjustment.amount
    for (group, reason), amount in sorted(totals.items()):
        if amount != ZERO:
            lines.append(_line(key, _entry_type(group, payment.status), group, reason, amount, gl, payment, None))
    return lines


def journal_lines_for_provider_adjustment(
    plb: ProviderAdjustment, gl: GlMapping, occurrence: int = 0
) -> list[JournalLine]:
    """Return the journal line of one PLB adjustment, signed as its effect on cash."""
    key = "plb_" + _digest(
        plb.payer_id, plb.trace_number, plb.provider_id, plb.fiscal_period_date, plb.reason, plb.reference,
        plb.amount, occurrence,
    )
    if plb.amount == ZERO:
        return []
    return [_line(key, "provider_adjustment", "", plb.reason, -plb.amount, gl, None, plb)]

