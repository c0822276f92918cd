"""Response schemas of the HTTP API.

Amounts are :class:`~decimal.Decimal` and serialize as JSON strings (``"125.40"``), so no client
reads a float that lost a cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditEventPublic",
    "ContributionPublic",
    "ExceptionDetail",
    "ExceptionSummary",
    "FieldError",
    "Health",
    "Page",
    "PredictionPublic",
    "Problem",
    "SourcePosition",
]

ItemT = TypeVar("ItemT")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ExceptionSummary(BaseModel):
    """One exception in a list, with the type, confidence and route of its latest prediction."""

    model_config = ConfigDict(extra="ignore")

    exception_id: str
    kind: str
    code: str
    message: str
    claim_id: str | None
    payer_id: str | None
    amount_at_risk: Decimal
    service_date: dt.date | None
    detected_on: dt.date
    claim_status: str | None
    status: str
    queue: str | None
    document_id: str | None
    created_at: dt.datetime
    predicted_type: str | None = Field(description="Type of the latest prediction; null before any.")
    confidence: float | None = Field(description="Confidence of the latest prediction, 0 to 1.")
    route: str | None = Field(description="Route of the latest prediction (auto or review).")


class ContributionPublic(BaseModel):
    """One SHAP contribution: the feature, its value and its signed effect on the predicted type."""

    feature: str
    value: str
    contribution: float


class PredictionPublic(BaseModel):
    """One model prediction for an exception and the route it chose."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    prediction_id: str
    model_name: str
    model_version: str
    predicted_type: str
    predicted_priority: str | None
    predicted_resolution: str | None
    confidence: float
    threshold: float
    probabilities: dict[str, float]
    explanation: list[ContributionPublic]
    route: str
    route_reason: str
    queue: str | None
    latency_ms: float | None
    created_at: dt.datetime


class SourcePosition(BaseModel):
    """Position of the exception in its input file: segment for X12, page and box for PDF."""

    model_config = ConfigDict(extra="ignore")

    file: str
    document_id: str
    interchange_control: str | None = None
    group_control: str | None = None
    transaction_control: str | None = None
    segment_index: int | None = None
    segment_id: str | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: str
    actor: str
    at: dt.datetime
    details: dict[str, Any]


class ExceptionDetail(ExceptionSummary):
    """One exception with its evidence, source position, predictions and audit trail."""

    updated_at: dt.datetime
    run_id: str | None
    evidence: dict[str, Any] = Field(
        description="CARC, RARC and group codes, procedure and diagnosis codes, billed and paid "
        "amounts, and the detector's details."
    )
    source: SourcePosition
    latest_prediction: PredictionPublic | None
    predictions: list[PredictionPublic] = Field(description="Every prediction, newest first.")
    audit_events: list[AuditEventPublic] = Field(description="Every audit event, oldest first.")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: ``items`` from ``offset``, at most ``limit`` of ``total``."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


class FieldError(BaseModel):
    field: str
    location: str
    message: str


class Problem(BaseModel):
    """An error response in the RFC 9457 problem details format (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
