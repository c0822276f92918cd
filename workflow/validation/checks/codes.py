"""Code set checks: ICD-10-CM diagnoses, procedure codes, place of service, type of bill."""

from __future__ import annotations

import datetime as dt
import re

from features.codesets import icd10_status, is_code_effective, place_of_service, type_of_bill
from workflow.records import Claim, ServiceLine
from workflow.validation.checks.generic import is_blank, line_number_of
from workflow.validation.fields import field_values
from workflow.validation.registry import CheckContext, RuleViolation, check

DEFAULT_PROCEDURE_QUALIFIERS = ("HC", "AD")


def line_service_date(claim: Claim, line: ServiceLine | None) -> dt.date | None:
    """Return the line's first date of service, else the claim's."""
    if line is not None and line.service_date_from is not None:
        return line.service_date_from
    return claim.service_date


@check("icd10_exists")
def icd10_exists(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a diagnosis code that is not an ICD-10-CM category or code at all."""
    on = claim.service_date
    return [
        RuleViolation(
            field=f"{context.field}[{position}]",
            value=code,
            expected="an ICD-10-CM code valid on the date of service",
        )
        for position, code in enumerate(claim.diagnosis_codes, start=1)
        if icd10_status(code, on) == "unknown"
    ]


@check("icd10_billable")
def icd10_billable(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a header diagnosis code: a valid category that has more specific codes below it."""
    on = claim.service_date
    return [
        RuleViolation(
            field=f"{context.field}[{position}]",
            value=code,
            expected="a billable code at the most specific level",
            message_detail=f"{code} is a category; code to the full depth",
        )
        for position, code in enumerate(claim.diagnosis_codes, start=1)
        if icd10_status(code, on) == "header"
    ]


@check("procedure_code_format", needs_field=True)
def procedure_code_format(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a HCPCS/CPT code of the wrong shape on lines whose qualifier is in ``params.qualifiers``.

    A line with no qualifier is checked too. Lines of other code systems (revenue codes only,
    NDC, HIPPS rates) are skipped.
    """
    regex = re.compile(context.params["pattern"])
    qualifiers = set(context.params.get("qualifiers", DEFAULT_PROCEDURE_QUALIFIERS))

    violations = []
    for item in field_values(claim, context.field):
        line = item.line
        if is_blank(item.value) or (line is not None and line.procedure_qualifier not in qualifiers | {None}):
            continue
        code = str(item.value).strip().upper()
        if regex.fullmatch(code) is None:
            expected = "5 digits, 4 digits plus F/T/U/M/A, or a letter A-V plus 4 digits"
            violations.append(RuleViolation(context.field, code, expected, line_number=line_number_of(item)))
    return violations


@check("place_of_service_valid", needs_field=True)
def place_of_service_valid(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a place of service code that does not exist or is not in effect on the date of service."""
    violations = []
    for item in field_values(claim, context.field):
        if is_blank(item.value):
            continue
        code = str(item.value).strip()
        on = line_service_date(claim, item.line)
        if not is_code_effective(place_of_service(code), on):
            expected = "a CMS place of service code in effect on the date of service"
            violations.append(RuleViolation(context.field, code, expected, line_number=line_number_of(item)))
    return violations


@check("type_of_bill_valid")
def type_of_bill_valid(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag an institutional claim whose facility type and classification (CLM05-1) are missing or unknown."""
    code = (claim.facility_type or "").strip()
    expected = "a two-digit facility type and classification such as 11 or 13"
    if not code:
        return [RuleViolation(context.field, None, expected)]
    if not is_code_effective(type_of_bill(code), claim.service_date):
        return [RuleViolation(context.field, code, expected)]
    return []


@check("diagnosis_pointers_valid")
def diagnosis_pointers_valid(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a line diagnosis pointer that points past the claim's diagnosis codes or repeats.

    With ``params.required`` a line with no pointer is flagged as well; ``params.max`` limits how
    many pointers a line may carry (four in the 837P).
    """
    count = len(claim.diagnosis_codes)
    required_pointer = bool(context.params.get("required", False))
    max_pointers = int(context.params.get("max", 4))

    violations = []
    for line in claim.service_lines:
        pointers = line.diagnosis_pointers
        if not pointers and required_pointer:
            violations.append(RuleViolation(context.field, None, "at least one diagnosis pointer", line_number=line.line_number))
        for pointer in pointers:
            if not 1 <= pointer <= count:
                violations.append(
                    RuleViolation(context.field, str(pointer), f"a pointer from 1 to {count}", line_number=line.line_number)
                )
        if len(set(pointers)) != len(pointers) or len(pointers) > max_pointers:
            value = ",".join(str(pointer) for pointer in pointers)
            violations.append(
                RuleViolation(context.field, value, f"at most {max_pointers} distinct pointers", line_number=line.line_number)
            )
    return violations
