"""Request bodies of the HTTP API: exceptions to triage and reviewer decisions.

An exception is accepted in its JSON form (what ``workflow.records.record_to_dict`` gives an
``ExceptionRecord``) and also as ``GET /v1/exceptions/{id}`` returns it, where the codes and
amounts sit inside ``evidence`` next to the detector's ``details``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from workflow.records import ExceptionRecord, Source

__all__ = [
    "MAX_BATCH",
    "NO_NUL",
    "DecisionRequest",
    "ExceptionIn",
    "SourceIn",
    "TriageBatch",
    "TriageBody",
]

MAX_BATCH = 1000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# PostgreSQL text columns reject the NUL character, so it is rejected here as an invalid value.
NO_NUL = r"^[^\x00]*$"

CODE_FIELDS = ("group_codes", "carc_codes", "rarc_codes", "procedure_codes", "diagnosis_codes")
AMOUNT_FIELDS = ("billed_amount", "paid_amount")
# The keys of ``evidence`` as the store keeps it and GET /v1/exceptions/{id} returns it.
STORED_EVIDENCE_KEYS = frozenset({"details", *CODE_FIELDS, *AMOUNT_FIELDS})

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
X12Id = Annotated[str, Field(min_length=1, max_length=80, pattern=NO_NUL)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    # "125.4", "1E+2" and "125.400" are the amounts "125.40", "100.00" and "125.40", and the store
    # and the responses show every amount with two decimals.
    return value.quantize(CENT)


Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False), AfterValidator(_to_cents)]
CodeList = Annotated[list[Annotated[str, Field(max_length=80)]], Field(max_length=200)]


def _reject_numeric_date(value: Any) -> Any:
    # Pydantic reads a number, or a string of digits, as Unix time, so 86400 or "86400" would
    # become 1970-01-02. A workflow system that sends one has a bug, which surfaces here as a 422.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("expected a date as a YYYY-MM-DD string, not a number")
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as a YYYY-MM-DD string, such as 2026-09-03")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_reject_numeric_date)]


class SourceIn(BaseModel):
    """Where the exception came from; optional for exceptions raised by another system."""

    model_config = ConfigDict(extra="ignore")

    file: str = Field(default="api", max_length=255)
    document_id: str = Field(default="api", max_length=64)
    interchange_control: str | None = Field(default=None, max_length=80)
    group_control: str | None = Field(default=None, max_length=80)
    transaction_control: str | None = Field(default=None, max_length=80)
    segment_index: int | None = Field(default=None, ge=0)
    segment_id: str | None = Field(default=None, max_length=8)
    page: int | None = Field(default=None, ge=0)
    bbox: tuple[float, float, float, float] | None = None


class ExceptionIn(BaseModel):
    """One exception to triage, as the store keeps it or as GET /v1/exceptions/{id} returns it.

    Fields the API adds on the way out (status, queue, predictions, audit events) are ignored.
    """

    model_config = ConfigDict(extra="ignore")

    exception_id: Id
    kind: str = Field(min_length=1, max_length=32, description="How the problem was detected, e.g. denial.")
    code: Code = Field(description="Rule or match finding id, e.g. payment.denied.")
    message: str = Field(default="", max_length=2000)
    claim_id: X12Id | None = None
    payer_id: X12Id | None = None
    amount_at_risk: Money = Field(description="Money at stake, as a decimal string such as \"125.40\".")
    service_date: IsoDate | None = None
    detected_on: IsoDate
    claim_status: str | None = Field(default=None, max_length=8)
    group_codes: CodeList = Field(default_factory=list)
    carc_codes: CodeList = Field(default_factory=list)
    rarc_codes: CodeList = Field(default_factory=list)
    billed_amount: Money | None = None
    paid_amount: Money | None = None
    procedure_codes: CodeList = Field(default_factory=list)
    diagnosis_codes: CodeList = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict, description="The detector's evidence (adjustments and more).")
    source: SourceIn | None = None
    document_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _reject_nul(cls, data: Any) -> Any:
        if _contains_nul(data):
            raise ValueError("text values must not contain the NUL character (\\u0000)")
        return data

    @model_validator(mode="before")
    @classmethod
    def _lift_stored_evidence(cls, data: Any) -> Any:
        # The detail form keeps codes and amounts inside evidence, beside the detector's details.
        if not isinstance(data, dict):
            return data
        evidence = data.get("evidence")
        # Only the exact stored shape is lifted, so a caller's own evidence that happens to hold a
        # "details" key beside other keys is kept as it was sent.
        if not (
            isinstance(evidence, dict)
            and "details" in evidence
            and any(k in evidence for k in CODE_FIELDS)
            and evidence.keys() <= STORED_EVIDENCE_KEYS
        ):
            return data
        lifted = dict(data)
        for name in (*CODE_FIELDS, *AMOUNT_FIELDS):
            if lifted.get(name) in (None, []) and name in evidence:
                lifted[name] = evidence[name]
        details = evidence.get("details")
        lifted["evidence"] = details if isinstance(details, dict) else {}
        return lifted

    def to_payload(self) -> dict[str, Any]:
        """Return the exception's JSON form, the input of the feature pipeline."""
        payload = self.model_dump(mode="json")
        payload["source"] = (self.source or SourceIn()).model_dump(mode="json")
        payload["status"] = "open"
        return payload

    def to_record(self) -> ExceptionRecord:
        """Build the record the store keeps for an exception first seen in a request."""
        source = self.source or SourceIn()
        return ExceptionRecord(
            exception_id=self.exception_id,
            kind=self.kind,
            code=self.code,
            message=self.message,
            claim_id=self.claim_id,
            payer_id=self.payer_id,
            amount_at_risk=self.amount_at_risk,
            service_date=self.service_date,
            detected_on=self.detected_on,
            claim_status=self.claim_status,
            group_codes=tuple(self.group_codes),
            carc_codes=tuple(self.carc_codes),
            rarc_codes=tuple(self.rarc_codes),
            billed_amount=self.billed_amount,
            paid_amount=self.paid_amount,
            procedure_codes=tuple(self.procedure_codes),
            diagnosis_codes=tuple(self.diagnosis_codes),
            evidence=dict(self.evidence),
            source=Source(**source.model_dump()),
            document_id=self.document_id,
        )


def _contains_nul(value: Any) -> bool:
    # orjson writes NUL as \u0000, so an encode and a byte search clear an exception six times faster
    # than the walk. A hit may be a literal backslash and "u0000", so it takes the walk, as do values orjson rejects.
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return _walk_for_nul(value)
    return b"\\u0000" in encoded and _walk_for_nul(value)


def _walk_for_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_walk_for_nul(key) or _walk_for_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_walk_for_nul(item) for item in value)
    return False


class TriageBatch(BaseModel):
    """Up to 1,000 exceptions triaged as one vectorised batch."""

    exceptions: list[ExceptionIn] = Field(min_length=1, max_length=MAX_BATCH)


def _body_kind(value: Any) -> str:
    if isinstance(value, dict) and "exceptions" in value:
        return "batch"
    if isinstance(value, TriageBatch):
        return "batch"
    return "exception"


TriageBody = Annotated[
    Annotated[TriageBatch, Tag("batch")] | Annotated[ExceptionIn, Tag("exception")],
    Discriminator(_body_kind),
]
"""A single exception object, or ``{"exceptions": [...]}`` with up to 1,000 of them."""


class DecisionRequest(BaseModel):
    """A reviewer's decision: accept the latest prediction or override its labels, with an outcome."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "override"]
    type: Code | None = Field(default=None, description="Root-cause type; for override only.")
    priority: Code | None = Field(default=None, description="Priority; for override only.")
    resolution: Code | None = Field(default=None, description="Resolution; for override only.")
    outcome: Literal["recovered", "resubmitted", "written_off"] | None = Field(
        default=None, description="How the exception was resolved; leave out while work continues."
    )
    amount_recovered: Money | None = Field(default=None, ge=0, description="Dollars recovered, with outcome recovered.")
    reopen: bool = Field(
        default=False,
        description="Reopen a resolved exception to record this decision in place of its outcome; "
        "without it a decision on a resolved exception is rejected with 409. No effect on other statuses.",
    )

    @model_validator(mode="after")
    def _check_consistency(self) -> DecisionRequest:
        labels = (self.type, self.priority, self.resolution)
        if self.decision == "accept" and any(label is not None for label in labels):
            raise ValueError("decision 'accept' takes no type, priority or resolution: send 'override' to change them")
        if self.decision == "override" and all(label is None for label in labels):
            raise ValueError("decision 'override' needs at least one of type, priority or resolution")
        if self.amount_recovered is not None and self.outcome != "recovered":
            raise ValueError("amount_recovered is only valid with outcome 'recovered'")
        return self
