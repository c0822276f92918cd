"""The label sets the models predict: exception type (root cause), priority and resolution.

``docs/taxonomy.md`` explains each label. Changing a list here changes what a newly trained model
predicts; a shipped model bundle carries its own copy of the labels it was trained on.
"""

from __future__ import annotations

__all__ = ["EXCEPTION_TYPES", "PRIORITIES", "RESOLUTIONS"]

EXCEPTION_TYPES: tuple[str, ...] = (
    "eligibility_registration",
    "authorization",
    "coding",
    "medical_necessity",
    "missing_information",
    "non_covered_service",
    "duplicate",
    "timely_filing",
    "coordination_of_benefits",
    "underpayment",
    "remittance_mismatch",
    "invoice_mismatch",
    "extraction_failure",
)

PRIORITIES: tuple[str, ...] = ("critical", "high", "normal", "low")

RESOLUTIONS: tuple[str, ...] = (
    "correct_and_resubmit",
    "appeal",
    "obtain_authorization",
    "update_eligibility_and_rebill",
    "bill_secondary_payer",
    "submit_documentation",
    "post_adjustment",
    "write_off",
    "void_duplicate",
    "contact_payer",
    "request_vendor_credit",
    "approve_variance",
    "manual_keying",
)
