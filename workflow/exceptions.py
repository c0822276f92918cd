"""Turn rule findings and payment outcomes into exceptions, each with its evidence.

An exception id is a hash of the document, the segment and the finding code, so reading the same
document again produces the same ids and the store does not duplicate work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from workflow.matching import PaymentMatch
from workflow.records import Adjustment, Claim, ClaimPayment, ExceptionRecord, Finding, Payment, Severity

logger = logging.getLogger(__name__)

__all__ = [
    "exception_id_for",
    "exceptions_from_findings",
    "exceptions_from_matches",
    "is_denial",
    "payment_exception",
    "transaction_exception",
]

ZERO = Decimal("0")
REVERSAL_STATUS = "22"
DENIED_STATUS = "4"


def exception_id_for(*parts: object) -> str:
    """Derive a stable exception id from the parts that make an exception unique."""
    digest = hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
    return f"exc_{digest[:20]}"


def _adjustments_evidence(adjustments: Iterable[Adjustment]) -> list[dict[str, str]]:
    return [
        {"group": adj.group, "reason": adj.reason, "amount": str(adj.amount)}
        for adj in adjustments
    ]


def _codes_by_size(adjustments: Sequence[Adjustment]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return aligned (group codes, reason codes), the largest absolute amount first, no repeats."""
    ordered = sorted(adjustments, key=lambda adj: -abs(adj.amount))
    seen: dict[tuple[str, str], None] = {}
    for adj in ordered:
        seen.setdefault((adj.group, adj.reason), None)
    pairs = list(seen)
    return tuple(g for g, _ in pairs), tuple(r for _, r in pairs)


def is_denial(payment: ClaimPayment) -> bool:
    """Tell whether a claim payment is a denial: status 4, or nothing paid with CO or PR adjustments."""
    if payment.status == DENIED_STATUS:
        return True
    if payment.paid != ZERO or payment.status == REVERSAL_STATUS:
        return False
    return any(adj.group in ("CO", "PR") and adj.amount != ZERO for adj in payment.all_adjustments)


def payment_exception(
    payment: ClaimPayment, kind: str, code: str, message: str, amount_at_risk: Decimal,
    claim: Claim | None, extra_evidence: Mapping[str, object] | None = None, id_parts: Sequence[object] = (),
) -> ExceptionRecord:
    """Build an exception about one claim payment, with its amounts, codes and adjustments as evidence.

    ``id_parts`` tell apart several exceptions of one code on one payment (one per line, say).
    """
    groups, reasons = _codes_by_size(payment.all_adjustments)
    procedures = tuple(
        svc.procedure_code for svc in payment.service_payments if svc.procedure_code
    ) or (tuple(line.procedure_code for line in claim.service_lines if line.procedure_code) if claim else ())
    evidence: dict[str, object] = {
        "claim_status": payment.status,
        "charge": str(payment.charge),
        "paid": str(payment.paid),
        "patient_responsibility": None if payment.patient_responsibility is None else str(payment.patient_responsibility),
        "payer_claim_id": payment.payer_claim_id,
        "trace_number": payment.trace_number,
        "adjustments": _adjustments_evidence(payment.all_adjustments),
        "remark_codes": list(payment.all_remark_codes),
        "line_count": len(payment.service_payments),
        "filing_indicator": payment.filing_indicator or (claim.filing_indicator if claim else None),
    }
    if extra_evidence:
        evidence.update(extra_evidence)
    return ExceptionRecord(
        exception_id=exception_id_for(payment.source.document_id, payment.source.segment_index, code, *id_parts),
        kind=kind,
        code=code,
        message=message,
        claim_id=payment.claim_id,
        payer_id=payment.payer_id,
        amount_at_risk=amount_at_risk,
        service_date=payment.service_date or (claim.service_date if claim else None),
        detected_on=payment.payment_date or dt.date.today(),
        claim_status=payment.status,
        group_codes=groups,
        carc_codes=reasons,
        rarc_codes=payment.all_remark_codes,
        billed_amount=payment.charge,
        paid_amount=payment.paid,
        procedure_codes=procedures,
        diagnosis_codes=claim.diagnosis_codes if claim else (),
        evidence=evidence,
        source=payment.source,
        document_id=payment.source.document_id,
    )


_payment_exception = payment_exception


def transaction_exception(
    header: Payment, kind: str, code: str, message: str, amount_at_risk: Decimal, evidence: Mapping[str, object]
) -> ExceptionRecord:
    """Build an exception about a whole 835 transaction (its BPR payment), not about one claim."""
    full_evidence: dict[str, object] = {
        "trace_number": header.trace_number,
        "bpr_amount": str(header.amount),
        "credit_debit": header.credit_debit,
        "payee_id": header.payee_id,
    }
    full_evidence.update(evidence)
    return ExceptionRecord(
        exception_id=exception_id_for(header.source.document_id, header.source.segment_index, code),
        kind=kind,
        code=code,
        message=message,
        claim_id=None,
        payer_id=header.payer_id,
        amount_at_risk=amount_at_risk,
        service_date=None,
        detected_on=header.payment_date or dt.date.today(),
        claim_status=None,
        group_codes=(),
        carc_codes=(),
        rarc_codes=(),
        billed_amount=None,
        paid_amount=header.amount,
        procedure_codes=(),
        diagnosis_codes=(),
        evidence=full_evidence,
        source=header.source,
        document_id=header.source.document_id,
    )


def _match_evidence(match: PaymentMatch) -> dict[str, object]:
    return {"match_key": match.key, "match_confidence": match.confidence, "claim_candidates": len(match.candidates)}


def _claim_summary(claim: object) -> dict[str, object]:
    return {
        "claim_id": getattr(claim, "claim_id", None),
        "payer_id": getattr(claim, "payer_id", None),
        "total_charge": str(getattr(claim, "total_charge", "")),
        "service_date": None if getattr(claim, "service_date", None) is None else str(claim.service_date),  # type: ignore[attr-defined]
    }


def _resubmitted_claim(match: PaymentMatch, claims_by_key: Mapping[tuple[str, str | None], Claim]) -> Claim | None:
    """Return the claim that every candidate repeats, when the candidates are one claim sent twice.

    The payment stays ambiguous (a person picks the submission it pays), but the claim's content is
    the same whichever it is, so its diagnosis and procedure codes can inform the triage.
    """
    shapes = {(c.claim_id, c.payer_id, getattr(c, "patient_id", None), c.total_charge,
               getattr(c, "service_date", None)) for c in match.candidates}
    if len(match.candidates) < 2 or len(shapes) != 1:
        return None
    first = match.candidates[0]
    return first if isinstance(first, Claim) else claims_by_key.get((first.claim_id, first.payer_id))


def exceptions_from_matches(
    matches: Sequence[PaymentMatch], claims_by_key: Mapping[tuple[str, str | None], Claim] | None = None
) -> list[ExceptionRecord]:
    """Create an exception for every unmatched, ambiguous, denied or zero-paid claim payment.

    ``claims_by_key`` maps (claim id, payer id) to the full claim where this run read it, so the
    exception can carry the claim's diagnosis codes; stored claims from earlier runs lack them.
    """
    claims_by_key = claims_by_key or {}
    exceptions: list[ExceptionRecord] = []
    for match in matches:
        payment = match.payment
        claim = None
        if isinstance(match.claim, Claim):
            claim = match.claim
        elif match.claim is not None:
            claim = claims_by_key.get((match.claim.claim_id, match.claim.payer_id))

        if match.status == "unmatched":
            exceptions.append(_payment_exception(
                payment, "unmatched_payment", "match.no_claim",
                "The claim payment matches no claim that was sent.", abs(payment.paid) or payment.charge, None,
            ))
            continue
        if match.status == "ambiguous":
            claim = _resubmitted_claim(match, claims_by_key)
            candidates = [_claim_summary(c) for c in match.candidates]
            exceptions.append(_payment_exception(
                payment, "ambiguous_match", "match.ambiguous",
                f"The claim payment matches {len(candidates)} claims; a person must choose.",
                abs(payment.paid) or payment.charge, claim, {"candidates": candidates, **_match_evidence(match)},
            ))
        if match.claim_id_differs:
            # Only patient, service date and charge agree: a mistyped claim id is likely, but a
            # person confirms it before the payment is applied to that claim.
            exceptions.append(_payment_exception(
                payment, "unmatched_payment", "match.claim_id_differs",
                "No claim has this claim id; one claim of the same patient, service date and charge may be the one paid.",
                abs(payment.paid) or payment.charge, None,
                {"suggested_claim": _claim_summary(match.claim), **_match_evidence(match)},
            ))
            continue

        if payment.status == REVERSAL_STATUS:
            continue
        if is_denial(payment):
            exceptions.append(_payment_exception(
                payment, "denial", "payment.denied",
                "The payer denied the claim.", payment.charge - payment.paid, claim,
                _match_evidence(match),
            ))
        elif payment.paid == ZERO:
            exceptions.append(_payment_exception(
                payment, "zero_paid", "payment.zero_paid",
                "The payer paid nothing on the claim.", payment.charge, claim,
                _match_evidence(match),
            ))
    return exceptions


def exceptions_from_findings(
    findings: Iterable[Finding], claims_by_id: Mapping[str, Claim], detected_on: dt.date
) -> list[ExceptionRecord]:
    """Create an exception for every rule finding of error or warning severity on a claim.

    An exception is dated the day its claim was sent when the file says so (BHT04), else
    ``detected_on``, so a history replayed later keeps each exception in its own time.
    """
    exceptions: list[ExceptionRecord] = []
    for finding in findings:
        if not finding.code.startswith("rule.") or finding.severity == Severity.INFO:
            continue
        claim = claims_by_id.get(finding.claim_id or "")
        evidence = {
            "field": finding.element,
            "value": finding.value,
            "expected": finding.expected,
            "reason": finding.message,
            "severity": finding.severity.value,
            "rule_set_version": finding.rule_set_version,
        }
        exceptions.append(ExceptionRecord(
            exception_id=exception_id_for(
                finding.source.document_id, finding.source.segment_index, finding.code, finding.element, finding.value
            ),
            kind="validation",
            code=finding.code,
            message=finding.message,
            claim_id=finding.claim_id,
            payer_id=claim.payer_id if claim else None,
            amount_at_risk=claim.total_charge if claim else ZERO,
            service_date=claim.service_date if claim else None,
            detected_on=(claim.submitted_on if claim and claim.submitted_on else detected_on),
            claim_status=None,
            group_codes=(),
            carc_codes=(),
            rarc_codes=(),
            billed_amount=claim.total_charge if claim else None,
            paid_amount=None,
            procedure_codes=tuple(line.procedure_code for line in claim.service_lines if line.procedure_code) if claim else (),
            diagnosis_codes=claim.diagnosis_codes if claim else (),
            evidence=evidence,
            source=finding.source,
            document_id=finding.source.document_id,
        ))
    return exceptions
