"""Claim validation: versioned rules declared in YAML, run by small registered check functions.

::

    from workflow.validation import load_rule_set
    rule_set = load_rule_set()                 # the shipped rules/claims.yaml
    findings = rule_set.validate(claims, as_of=date.today())
"""

from __future__ import annotations

from workflow.validation.engine import (
    CHECK_FAILED_CODE,
    RULES_PATH_ENV,
    SHIPPED_RULES_PATH,
    AppliesTo,
    Override,
    Rule,
    RuleSet,
    clean_claim_rate,
    first_pass_rate,
    load_rule_set,
)
from workflow.validation.history import ClaimHistory, claim_fingerprint
from workflow.validation.registry import CHECKS, CheckContext, RuleViolation, check

__all__ = [
    "CHECKS",
    "CHECK_FAILED_CODE",
    "RULES_PATH_ENV",
    "SHIPPED_RULES_PATH",
    "AppliesTo",
    "CheckContext",
    "ClaimHistory",
    "Override",
    "Rule",
    "RuleSet",
    "RuleViolation",
    "check",
    "claim_fingerprint",
    "clean_claim_rate",
    "first_pass_rate",
    "load_rule_set",
]
