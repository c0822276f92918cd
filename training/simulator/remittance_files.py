"""Write simulated payer decisions as 835 (005010X221A1) files.

One file contains one payer's payment cycle: one transaction set per payee organisation, each with
its own BPR payment. BPR02 equals the sum of CLP04 minus the sum of the PLB amounts, as the 835
guide requires; a PLB ``FB`` forward balance keeps a cycle whose reversals exceed its payments
from going below zero.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from training.simulator.adjudication import RemitClaim, RemitLine
from training.simulator.claim_files import CLEARINGHOUSE_ID
from training.simulator.world import Organisation, Payer
from training.simulator.x12_writer import (
    COMPONENT_SEPARATOR as C,
    Envelope,
    format_amount,
    format_date,
    format_segment as seg,
    write_interchange,
)

__all__ = ["ProviderLevelAdjustment", "RemittanceTransaction", "payment_amount", "write_remittance_file"]

logger = logging.getLogger(__name__)

ZERO = Decimal("0")


@dataclass(slots=True)
class ProviderLevelAdjustment:
    """One PLB adjustment: reason (WO, L6, FB), reference and amount (positive reduces the payment)."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(slots=True)
class RemittanceTransaction:
    """One 835 transaction set: a payer's payment to one organisation on one date."""

    payer: Payer
    organisation: Organisation
    payment_date: dt.date
    trace_number: str
    claims: list[RemitClaim]
    provider_adjustments: list[ProviderLevelAdjustment]


def payment_amount(transaction: RemittanceTransaction) -> Decimal:
    """BPR02: the sum of CLP04 minus the sum of PLB amounts."""
    paid = sum((claim.paid for claim in transaction.claims), ZERO)
    adjusted = sum((plb.amount for plb in transaction.provider_adjustments), ZERO)
    return paid - adjusted


def _cas_segments(adjustments: Sequence[tuple[str, str, Decimal]]) -> list[str]:
    # One CAS segment per group code, with up to six reason/amount/quantity triplets each.
    segments = []
    groups = list(dict.fromkeys(group for group, _, _ in adjustments))
    for group in groups:
        triplets = [(carc, amount) for g, carc, amount in adjustments if g == group]
        for start in range(0, len(triplets), 6):
            elements = [group]
            for carc, amount in triplets[start : start + 6]:
                elements.extend([carc, format_amount(amount), ""])
            segments.append(seg("CAS", *elements))
    return segments


def _line_segments(line: RemitLine) -> list[str]:
    segments = [
        seg("SVC", f"HC{C}{line.code}", format_amount(line.charge), format_amount(line.paid), "", str(line.units)),
        seg("DTM", "472", format_date(line.service_date)),
    ]
    segments.extend(_cas_segments(line.adjustments))
    segments.append(seg("REF", "6R", line.control))
    if line.allowed is not None:
        segments.append(seg("AMT", "B6", format_amount(line.allowed)))
    segments.extend(seg("LQ", "HE", code) for code in line.remarks)
    return segments


def _claim_segments(claim: RemitClaim) -> list[str]:
    segments = [
        seg(
            "CLP",
            claim.claim_id,
            claim.status,
            format_amount(claim.charge),
            format_amount(claim.paid),
            format_amount(claim.patient_responsibility),
            claim.payer.remit_filing_indicator,
            claim.payer_claim_id,
            "11",
            "1",
        ),
    ]
    segments.extend(_cas_segments(claim.adjustments))
    segments.append(
        seg("NM1", "QC", "1", "DOE", f"PATIENT{claim.patient_number:05d}", "", "", "", "MI", claim.member_id)
    )
    if claim.remarks:
        # Claim-level remark codes of a professional claim go in MOA03 to MOA07.
        segments.append(seg("MOA", "", "", *claim.remarks[:5]))
    segments.append(seg("DTM", "050", format_date(claim.received_date)))
    for line in claim.lines:
        segments.extend(_line_segments(line))
    return segments


def _plb_segments(transaction: RemittanceTransaction) -> list[str]:
    # PLB takes up to six reason/amount pairs; the fiscal period is the end of the payment year.
    fiscal = f"{transaction.payment_date.year}1231"
    segments = []
    items = transaction.provider_adjustments
    for start in range(0, len(items), 6):
        elements = [transaction.organisation.npi, fiscal]
        for item in items[start : start + 6]:
            elements.extend([f"{item.reason}{C}{item.reference}", format_amount(item.amount)])
        segments.append(seg("PLB", *elements))
    return segments


def _transaction_body(transaction: RemittanceTransaction) -> list[str]:
    payer = transaction.payer
    organisation = transaction.organisation
    amount = payment_amount(transaction)
    date = format_date(transaction.payment_date)
    if amount > 0:
        bpr = seg(
            "BPR", "I", format_amount(amount), "C", "ACH", "CCP", "01", "011000015", "DA",
            f"{payer.tax_id}01", f"1{payer.tax_id}", "", "01", "021000021", "DA",
            f"{organisation.tax_id}77", date,
        )  # fmt: skip
    else:
        bpr = seg("BPR", "H", format_amount(amount), "C", "NON", "", "", "", "", "", "", "", "", "", "", "", date)
    body = [
        bpr,
        seg("TRN", "1", transaction.trace_number, f"1{payer.tax_id}"),
        seg("DTM", "405", date),
        seg("N1", "PR", payer.name),
        seg("N3", "1 SIMULATED PAYER PLAZA"),
        seg("N4", "CAPITAL CITY", "IL", "627020000"),
        seg("REF", "2U", payer.payer_id),
        seg("PER", "BL", "EDI SUPPORT", "TE", "5555550199"),
        seg("N1", "PE", organisation.name, "XX", organisation.npi),
        seg("N3", "100 SIMULATED PLAZA"),
        seg("N4", "SPRINGFIELD", "IL", "627010000"),
        seg("REF", "TJ", organisation.tax_id),
    ]
    if transaction.claims:
        body.append(seg("LX", "1"))
    for claim in transaction.claims:
        body.extend(_claim_segments(claim))
    body.extend(_plb_segments(transaction))
    return body


def write_remittance_file(
    path: Path,
    payer: Payer,
    transactions: Sequence[RemittanceTransaction],
    created: dt.datetime,
    interchange_control: int,
) -> None:
    """Write one 835 file with one transaction set per payee organisation."""
    envelope = Envelope(
        sender_id=payer.payer_id,
        receiver_id=CLEARINGHOUSE_ID,
        created=created,
        interchange_control=interchange_control,
        group_control=interchange_control,
        functional_id="HP",
        transaction_set_id="835",
        version="005010X221A1",
    )
    bodies = [_transaction_body(transaction) for transaction in transactions]
    path.write_text(write_interchange(envelope, bodies), encoding="ascii", newline="")
    for transaction in transactions:
        for claim in transaction.claims:
            claim.remittance_file = path.name
    logger.debug("wrote %s: %d transactions", path.name, len(transactions))
