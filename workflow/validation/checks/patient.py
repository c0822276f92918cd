"""Checks that compare diagnosis codes with the patient's sex and age on the date of service."""

from __future__ import annotations

import datetime as dt

from features.codesets import demographic_edits_for
from workflow.records import Claim
from workflow.validation.registry import CheckContext, RuleViolation, check

KNOWN_SEXES = frozenset({"F", "M"})


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Return the completed years of age on ``on``."""
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


@check("diagnosis_sex_consistent")
def diagnosis_sex_consistent(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a diagnosis limited to one sex on a patient recorded as the other; unknown sex passes."""
    sex = (claim.patient_sex or "").strip().upper()
    if sex not in KNOWN_SEXES:
        return []

    violations = []
    for position, code in enumerate(claim.diagnosis_codes, start=1):
        for edit in demographic_edits_for(code):
            if edit.sex is not None and edit.sex != sex:
                violations.append(
                    RuleViolation(
                        field=f"{context.field}[{position}]",
                        value=code,
                        expected=f"a code that fits patient sex {sex}",
                        message_detail=f"{edit.note}: sex {edit.sex} only",
                    )
                )
    return violations


@check("diagnosis_age_consistent")
def diagnosis_age_consistent(claim: Claim, context: CheckContext) -> list[RuleViolation]:
    """Flag a diagnosis whose age band does not contain the patient's age on the date of service."""
    birth = claim.patient_birth_date
    on = claim.service_date
    if birth is None or on is None:
        return []

    age = age_in_years(birth, on)
    violations = []
    for position, code in enumerate(claim.diagnosis_codes, start=1):
        for edit in demographic_edits_for(code):
            too_young = edit.min_age_years is not None and age < edit.min_age_years
            too_old = edit.max_age_years is not None and age > edit.max_age_years
            if too_young or too_old:
                band = f"{edit.min_age_years or 0} to {edit.max_age_years if edit.max_age_years is not None else 'any'}"
                violations.append(
                    RuleViolation(
                        field=f"{context.field}[{position}]",
                        value=code,
                        expected=f"a patient aged {band} years",
                        message_detail=f"{edit.note}; patient is {age}",
                    )
                )
    return violations
