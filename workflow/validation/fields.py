"""Read a claim field named the way rules name it: ``billing_npi`` or ``service_lines[].charge``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from workflow.records import Claim, ServiceLine

LINE_PREFIX = "service_lines[]."

_CLAIM_FIELDS = {field.name for field in dataclasses.fields(Claim)} | {"service_date"}
_LINE_FIELDS = {field.name for field in dataclasses.fields(ServiceLine)}

_CLAIM_KINDS = {
    "professional": "professional",
    "p": "professional",
    "837p": "professional",
    "institutional": "institutional",
    "i": "institutional",
    "837i": "institutional",
    "dental": "dental",
    "d": "dental",
    "837d": "dental",
}

CLAIM_KINDS = ("professional", "institutional", "dental")


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A field's value on the claim, or on one service line when ``line`` is set."""

    value: Any
    line: ServiceLine | None = None


def is_known_field(field: str) -> bool:
    """Tell whether ``field`` names a Claim attribute or a ServiceLine attribute under the line prefix."""
    if field.startswith(LINE_PREFIX):
        return field.removeprefix(LINE_PREFIX) in _LINE_FIELDS
    return field in _CLAIM_FIELDS


def field_values(claim: Claim, field: str) -> list[FieldValue]:
    """Return the field's value on the claim, or one value per service line for a line field."""
    if field.startswith(LINE_PREFIX):
        name = field.removeprefix(LINE_PREFIX)
        return [FieldValue(getattr(line, name), line) for line in claim.service_lines]
    return [FieldValue(getattr(claim, field))]


def claim_kind(claim: Claim) -> str:
    """Return ``professional``, ``institutional`` or ``dental`` for the claim.

    The reader's ``claim_type`` is accepted in several spellings (``837P``, ``P``, ``professional``).
    Without a known one, the implementation guide in ``version`` decides (X222 is professional,
    X223 institutional, X224 dental).
    """
    kind = _CLAIM_KINDS.get((claim.claim_type or "").strip().lower())
    if kind is not None:
        return kind

    version = (claim.version or "").upper()
    for guide, guide_kind in (("X222", "professional"), ("X223", "institutional"), ("X224", "dental")):
        if guide in version:
            return guide_kind
    return (claim.claim_type or "unknown").strip().lower()


def normalize_claim_kind(text: str) -> str:
    """Map a claim type as written in a rule file to one of :data:`CLAIM_KINDS`, or raise ValueError."""
    kind = _CLAIM_KINDS.get(text.strip().lower())
    if kind is None:
        raise ValueError(f"unknown claim type {text!r}; use one of {', '.join(CLAIM_KINDS)}")
    return kind
