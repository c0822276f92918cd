"""Checks that depend on the payer: prior authorization, timely filing, secondary claims, duplicates."""

from __future__ import annotations

import datetime as dt

from features.codesets import prior_auth_required, timely_filing_limit
from workflow.records import Claim
from workflow.validation.checks.codes import line_service_date
from workflow.validation.checks.generic import is_blank
from workflow.validation.registry import CheckContext, RuleViolation, check

DEFAULT_RECEIVED_QUALIFIER = "050"


@check("prior_authorization_present")
def prior_authorization_present(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a line whose procedure needs prior authorization for this payer when the claim has none.

    The payer rule table ``payer_rules/prior_auth_required.csv`` lists the procedures that need it.
    """
    if not is_blank(claim.prior_authorization):
        return []

    violations = []
    for line in claim.service_lines:
        code = (line.procedure_code or "").strip().upper()
        if code and prior_auth_required(claim.payer_id, context.payer_kind, code, line_service_date(claim, line)):
            violations.append(
                RuleViolation(
                    field=context.field,
                    value=None,
                    expected="a prior authorization number (REF*G1)",
                    message_detail=f"procedure {code} needs prior authorization for {context.payer_kind} payers",
                    line_number=line.line_number,
                )
            )
    return violations


@check("timely_filing")
def timely_filing(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a claim received later than the payer kind's filing limit after the date of service.

    The limit comes from ``params.limit_days`` when set (for a payer override), else from the
    timely filing table for the payer kind. A claim whose payer kind has no limit is not checked.
    The receipt date is the claim date with qualifier ``params.received_qualifier`` (050,
    received), else the day the file was created (BHT04, ``submitted_on``), else ``as_of``.
    """
    limit = timely_filing_limit(context.payer_kind)
    limit_days = context.params.get("limit_days", limit.days if limit else None)
    if limit_days is None:
        return []

    clock_start = _clock_start_date(claim, limit.clock_start if limit else "service_from")
    if clock_start is None:
        return []

    received = _receipt_date(claim, context)
    # NOTE: a limit in days only approximates limits stated in months or calendar years
    # (Medicare's is one calendar year, so a leap year gains or loses a day).
    elapsed = (received - clock_start).days
    if elapsed <= int(limit_days):
        return []

    return [
        RuleViolation(
            field=context.field,
            value=f"{elapsed} days",
            expected=f"at most {limit_days} days after {clock_start.isoformat()}",
            message_detail=f"{context.payer_kind} limit, received {received.isoformat()}",
        )
    ]


def _receipt_date(claim: Claim, context: CheckContext) -> dt.date:
    qualifier = str(context.params.get("received_qualifier", DEFAULT_RECEIVED_QUALIFIER))
    received = claim.dates.get(qualifier)
    if received is not None:
        return received
    return claim.submitted_on or context.as_of


def _clock_start_date(claim: Claim, clock_start: str) -> dt.date | None:
    if clock_start == "service_to":
        line_ends = [line.service_date_to or line.service_date_from for line in claim.service_lines]
        candidates = [claim.statement_to, *line_ends]
        known = [day for day in candidates if day is not None]
        return max(known) if known else claim.service_date
    return claim.service_date


@check("secondary_has_primary_adjudication")
def secondary_has_primary_adjudication(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a secondary or tertiary claim that carries no earlier payer's payment or adjustments.

    ``params.sequences`` lists the payer responsibility codes (SBR01) that mean "not primary".
    """
    sequences = {str(code) for code in context.params.get("sequences", ("S", "T"))}
    if (claim.payer_responsibility or "").strip().upper() not in sequences:
        return []

    claim_level = any(payer.paid_amount is not None or payer.adjustments for payer in claim.other_payers)
    line_level = any(line.adjustments for line in claim.service_lines)
    if claim_level or line_level:
        return []

    return [
        RuleViolation(
            field=context.field,
            value=claim.payer_responsibility,
            expected="the earlier payer's paid amount (AMT*D) or adjustments (CAS)",
        )
    ]


@check("original_reference_present")
def original_reference_present(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a replacement or void claim without the payer's claim number of the original (REF*F8)."""
    codes = {str(code) for code in context.params.get("frequency_codes", ("7", "8"))}
    if (claim.frequency_code or "").strip() not in codes or not is_blank(claim.payer_claim_control_number):
        return []
    return [
        RuleViolation(
            field=context.field,
            value=None,
            expected="the payer claim control number of the original claim",
            message_detail=f"frequency code {claim.frequency_code}",
        )
    ]


@check("not_duplicate")
def not_duplicate(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag an original claim with the same patient, provider, dates, codes and charges as an earlier one."""
    earlier = context.history.find_duplicate(claim)
    if earlier is None:
        return []
    return [
        RuleViolation(
            field=context.field,
            value=claim.claim_id,
            expected="a claim not billed before, or frequency code 7 (replacement) or 8 (void)",
            message_detail=f"same as claim {earlier.claim_id}",
        )
    ]
