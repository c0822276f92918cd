"""Provider identifier checks."""

from __future__ import annotations

from workflow.records import Claim
from workflow.validation.checks.generic import is_blank, line_number_of
from workflow.validation.fields import field_values
from workflow.validation.registry import CheckContext, RuleViolation, check

# An NPI's check digit is the Luhn digit of the 9 leading digits prefixed with 80840, the
# health-industry issuer prefix (ISO/IEC 7812) that the NPI standard assigns.
NPI_PREFIX = "80840"


def npi_check_digit_valid(npi: str) -> bool:
    """Tell whether ``npi`` is 10 digits whose last digit is the Luhn digit over 80840 + the first 9."""
    if len(npi) != 10 or not npi.isdigit():
        return False

    total = 0
    digits = NPI_PREFIX + npi[:9]
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        # Luhn doubles every second digit counting from the right of the payload.
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


@check("npi_luhn", needs_field=True)
def npi_luhn(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag an NPI that is not 10 digits or fails its check digit; a missing NPI passes."""
    violations = []
    for item in field_values(claim, context.field):
        if is_blank(item.value):
            continue
        npi = str(item.value).strip()
        if not npi_check_digit_valid(npi):
            violations.append(
                RuleViolation(
                    field=context.field,
                    value=npi,
                    expected="10 digits ending in a valid check digit",
                    line_number=line_number_of(item),
                )
            )
    return violations
