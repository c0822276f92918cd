"""Checks that work on any field: present, allowed values, pattern, length, count."""

from __future__ import annotations

import re
from typing import Any

from workflow.records import Claim
from workflow.validation.fields import FieldValue, field_values
from workflow.validation.registry import CheckContext, RuleViolation, check


def is_blank(value: Any) -> bool:
    """Tell whether a field value counts as missing: None, an empty string or an empty tuple."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (tuple, list, dict)):
        return len(value) == 0
    return False


def line_number_of(item: FieldValue) -> int | None:
    """Return the service line number of a field value, or None for a claim-level value."""
    return item.line.line_number if item.line is not None else None


def scalar_values(item: FieldValue) -> list[Any]:
    """Return the values to test one by one: the items of a tuple field, or the single value."""
    if isinstance(item.value, (tuple, list)):
        return list(item.value)
    return [] if is_blank(item.value) else [item.value]


@check("required", needs_field=True)
def required(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a field that is missing or empty (on the claim, or on each line for a line field)."""
    return [
        RuleViolation(field=context.field, value=None, expected="a value", line_number=line_number_of(item))
        for item in field_values(claim, context.field)
        if is_blank(item.value)
    ]


@check("allowed_values", needs_field=True)
def allowed_values(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a value outside ``params.values``; a missing value passes unless ``params.required``."""
    allowed = {str(value) for value in context.params["values"]}
    required_value = bool(context.params.get("required", False))
    expected = "one of " + ", ".join(sorted(allowed))

    violations = []
    for item in field_values(claim, context.field):
        if is_blank(item.value):
            if required_value:
                violations.append(RuleViolation(context.field, None, expected, line_number=line_number_of(item)))
            continue
        for value in scalar_values(item):
            if str(value).strip() not in allowed:
                violations.append(RuleViolation(context.field, str(value), expected, line_number=line_number_of(item)))
    return violations


@check("pattern", needs_field=True)
def pattern(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a value that does not fully match the regular expression ``params.pattern``."""
    regex = re.compile(context.params["pattern"])
    expected = context.params.get("expected") or f"a value matching {regex.pattern}"

    violations = []
    for item in field_values(claim, context.field):
        for value in scalar_values(item):
            if regex.fullmatch(str(value)) is None:
                violations.append(RuleViolation(context.field, str(value), expected, line_number=line_number_of(item)))
    return violations


@check("max_length", needs_field=True)
def max_length(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a text value longer than ``params.max`` characters."""
    limit = int(context.params["max"])
    return [
        RuleViolation(context.field, str(item.value), f"at most {limit} characters", line_number=line_number_of(item))
        for item in field_values(claim, context.field)
        if isinstance(item.value, str) and len(item.value) > limit
    ]


@check("count_between", needs_field=True)
def count_between(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a list field with fewer than ``params.min`` or more than ``params.max`` items."""
    low = context.params.get("min")
    high = context.params.get("max")
    expected = _count_expectation(low, high)

    violations = []
    for item in field_values(claim, context.field):
        count = len(item.value or ())
        if (low is not None and count < int(low)) or (high is not None and count > int(high)):
            violations.append(RuleViolation(context.field, str(count), expected, line_number=line_number_of(item)))
    return violations


def _count_expectation(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} items"
    if low is not None:
        return f"at least {low} item(s)"
    return f"at most {high} items"
