"""Check the balancing equations of an 835, with signs (negative adjustments are legitimate).

- claim: CLP03 charge - CLP04 paid = sum of every CAS amount at claim and line level;
- line: SVC02 charge - SVC03 paid = sum of the line's CAS amounts;
- patient responsibility: CLP05 = sum of the PR adjustments at claim and line level;
- transaction: BPR02 (negated when BPR03 is D, a debit) = sum of CLP04 - sum of PLB amounts.

Every failed equation becomes an :class:`Imbalance` with the expected and actual amounts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from workflow.records import ClaimPayment, Payment, ProviderAdjustment

logger = logging.getLogger(__name__)

__all__ = [
    "Imbalance",
    "check_claim_payment",
    "check_transaction",
    "signed_bpr_amount",
]

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Imbalance:
    """One failed balancing equation: ``expected`` is what the equation requires, ``actual`` what the file says.

    ``level`` is ``claim``, ``line``, ``patient_responsibility`` or ``transaction``;
    ``line_index`` is the position of the line in ``ClaimPayment.service_payments``.
    """

    level: str
    equation: str
    expected: Decimal
    actual: Decimal
    line_index: int | None = None

    @property
    def difference(self) -> Decimal:
        """``actual - expected``: positive when the file's amount is higher than the equation allows."""
        return self.actual - self.expected


def _sum(amounts: Sequence[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def check_claim_payment(payment: ClaimPayment) -> list[Imbalance]:
    """Check the claim, line and patient-responsibility equations of one claim payment."""
    imbalances: list[Imbalance] = []

    adjusted = _sum([adjustment.amount for adjustment in payment.all_adjustments])
    if payment.charge - payment.paid != adjusted:
        imbalances.append(Imbalance(
            "claim", "CLP03 - CLP04 = sum of claim and line CAS amounts",
            expected=adjusted, actual=payment.charge - payment.paid,
        ))

    for index, service in enumerate(payment.service_payments):
        line_adjusted = _sum([adjustment.amount for adjustment in service.adjustments])
        if service.charge - service.paid != line_adjusted:
            imbalances.append(Imbalance(
                "line", "SVC02 - SVC03 = sum of the line's CAS amounts",
                expected=line_adjusted, actual=service.charge - service.paid, line_index=index,
            ))

    if payment.patient_responsibility is not None:
        patient = _sum([adjustment.amount for adjustment in payment.all_adjustments if adjustment.group == "PR"])
        if payment.patient_responsibility != patient:
            imbalances.append(Imbalance(
                "patient_responsibility", "CLP05 = sum of PR adjustments at claim and line level",
                expected=patient, actual=payment.patient_responsibility,
            ))
    return imbalances


def signed_bpr_amount(header: Payment) -> Decimal:
    """BPR02 with the sign of BPR03: a debit (D) takes money back from the provider."""
    return -header.amount if header.credit_debit == "D" else header.amount


def check_transaction(
    header: Payment, claim_payments: Sequence[ClaimPayment], provider_adjustments: Sequence[ProviderAdjustment]
) -> Imbalance | None:
    """Check that the transaction's BPR amount equals its claim payments less its PLB amounts."""
    expected = _sum([payment.paid for payment in claim_payments]) - _sum([plb.amount for plb in provider_adjustments])
    actual = signed_bpr_amount(header)
    if actual == expected:
        return None
    return Imbalance("transaction", "BPR02 = sum of CLP04 - sum of PLB amounts", expected=expected, actual=actual)
