"""Money and quantity checks: claim total, line charges, units."""

from __future__ import annotations

import re
from decimal import Decimal

from workflow.records import Claim
from workflow.validation.registry import CheckContext, RuleViolation, check


@check("total_matches_lines")
def total_matches_lines(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a claim whose total charge (CLM02) differs from the sum of its line charges."""
    if not claim.service_lines:
        return []

    tolerance = Decimal(str(context.params.get("tolerance", "0")))
    line_sum = sum((line.charge for line in claim.service_lines), Decimal("0"))
    if abs(line_sum - claim.total_charge) <= tolerance:
        return []

    detail = f"lines add up to {line_sum}, a difference of {claim.total_charge - line_sum}"
    return [RuleViolation(context.field, str(claim.total_charge), str(line_sum), message_detail=detail)]


@check("units_positive")
def units_positive(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a line with zero or negative units; a line with no units is flagged when ``params.required``."""
    required_units = bool(context.params.get("required", True))
    violations = []
    for line in claim.service_lines:
        if line.units is None:
            if required_units:
                violations.append(RuleViolation(context.field, None, "units greater than 0", line_number=line.line_number))
        elif line.units <= 0:
            violations.append(RuleViolation(context.field, str(line.units), "units greater than 0", line_number=line.line_number))
    return violations


@check("charge_positive")
def charge_positive(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a line charge of zero or less.

    A zero charge is allowed for codes matching ``params.zero_charge_pattern``: CPT Category II
    codes (4 digits and F) report quality measures and are billed at 0.00.
    """
    zero_allowed = re.compile(context.params.get("zero_charge_pattern", r"^$"))
    violations = []
    for line in claim.service_lines:
        if line.charge > 0:
            continue
        if line.charge == 0 and zero_allowed.fullmatch(line.procedure_code or "") is not None:
            continue
        violations.append(RuleViolation(context.field, str(line.charge), "a charge greater than 0", line_number=line.line_number))
    return violations
