"""Find 835 transactions delivered twice: the same payment in a file with different bytes.

A payment is identified by its payer, its trace number (TRN02) and its signed BPR amount. The
document id (the SHA-256 of the file) cannot tell a re-sent payment apart, because a file
re-sent with other delimiters or line breaks has other bytes and so another document id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from workflow.records import Payment
from workflow.remittance.balancing import signed_bpr_amount

logger = logging.getLogger(__name__)

__all__ = ["DuplicatePayment", "PaymentKey", "find_duplicate_payments", "payment_key"]

PaymentKey = tuple[str, str, Decimal]
"""(payer id, trace number, signed BPR amount)."""


@dataclass(frozen=True, slots=True)
class DuplicatePayment:
    """A payment header whose payment was already delivered in ``original_document_id``."""

    payment: Payment
    key: PaymentKey
    original_document_id: str
    original_in_store: bool


def payment_key(header: Payment) -> PaymentKey | None:
    """The identity of a payment, or None when the file has no trace number to tell it by."""
    if not header.trace_number:
        return None
    return (header.payer_id or "", header.trace_number, signed_bpr_amount(header))


def find_duplicate_payments(
    headers: Sequence[Payment], known: Mapping[PaymentKey, str] | None = None
) -> list[DuplicatePayment]:
    """Return every payment header that repeats an earlier one.

    ``known`` maps the keys of payments stored by earlier runs to their document id. Within
    ``headers`` the first occurrence (in reading order) is the original. A key repeated inside
    one document is two payments that happen to agree, not a re-sent file, so it is not flagged.
    """
    known = known or {}
    first_seen: dict[PaymentKey, str] = {}
    duplicates: list[DuplicatePayment] = []
    for header in headers:
        key = payment_key(header)
        if key is None:
            continue
        document_id = header.source.document_id
        if key in known and known[key] != document_id:
            duplicates.append(DuplicatePayment(header, key, known[key], original_in_store=True))
            continue
        original = first_seen.setdefault(key, document_id)
        if original != document_id:
            duplicates.append(DuplicatePayment(header, key, original, original_in_store=False))
    if duplicates:
        logger.info("found %d payments delivered before", len(duplicates))
    return duplicates
