"""Date of service checks: present, in order, not in the future, not before birth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from workflow.records import Claim
from workflow.validation.registry import CheckContext, RuleViolation, check


def service_date_spans(claim: Claim) -> Iterator[tuple[str, int | None, dt.date | None, dt.date | None]]:
    """Yield ``(field, line_number, from, to)`` for the claim statement and every service line."""
    yield "statement_dates", None, claim.statement_from, claim.statement_to
    for line in claim.service_lines:
        yield "service_lines[].service_date", line.line_number, line.service_date_from, line.service_date_to


@check("service_date_present")
def service_date_present(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a service line with no date of service when the claim has no statement dates either."""
    if claim.statement_from is not None:
        return []
    if not claim.service_lines:
        return [RuleViolation(context.field, None, "a date of service")]
    return [
        RuleViolation(context.field, None, "a date of service", line_number=line.line_number)
        for line in claim.service_lines
        if line.service_date_from is None
    ]


@check("service_dates_ordered")
def service_dates_ordered(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a date span whose end comes before its start."""
    return [
        RuleViolation(field, f"{start.isoformat()} to {end.isoformat()}", "an end date on or after the start", line_number=line_number)
        for field, line_number, start, end in service_date_spans(claim)
        if start is not None and end is not None and end < start
    ]


@check("service_dates_not_future")
def service_dates_not_future(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a date of service after the day the claim was sent (BHT04), or after ``as_of``.

    A claim cannot bill a service that had not happened when the claim was created, so the
    creation date is the reference when the file carries one and it is earlier than ``as_of``.
    """
    reference = context.as_of
    if claim.submitted_on is not None and claim.submitted_on < reference:
        reference = claim.submitted_on
    violations = []
    for field, line_number, start, end in service_date_spans(claim):
        latest = max((day for day in (start, end) if day is not None), default=None)
        if latest is not None and latest > reference:
            expected = f"on or before {reference.isoformat()}"
            violations.append(RuleViolation(field, latest.isoformat(), expected, line_number=line_number))
    return violations


@check("service_dates_after_birth")
def service_dates_after_birth(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a date of service before the patient's birth date."""
    birth = claim.patient_birth_date
    if birth is None:
        return []

    violations = []
    for field, line_number, start, _ in service_date_spans(claim):
        if start is not None and start < birth:
            expected = f"on or after the birth date {birth.isoformat()}"
            violations.append(RuleViolation(field, start.isoformat(), expected, line_number=line_number))
    return violations
