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
    "DecisionPublic",
    "ContributionPublic",
    "ExceptionDetail",
    "ExceptionSummary",
    "FieldError",
    "Health",
    "Page",
    "PredictionPublic",
    "Problem",
    "ReconciliationVariance",
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


class DecisionPublic(BaseModel):
    """A reviewer's decision on an exception."""

    decision_id: str
    prediction_id: str | None
    action: str
    type: str
    priority: str | None
    resolution: str | None
    outcome: str | None
    amount_recovered: Decimal | None
    decided_by: str
    decided_at: dt.datetime


class ExceptionDetail(ExceptionSummary):
    """One exception with its evidence, source position, predictions and audit trail.

    POST /v1/triage accepts this object as it is, so a client can re-triage what it read.
    """

    group_codes: list[str] = Field(default_factory=list, description="Adjustment group codes (CO, PR, OA, PI, CR).")
    carc_codes: list[str] = Field(default_factory=list, description="Claim adjustment reason codes.")
    rarc_codes: list[str] = Field(default_factory=list, description="Remittance advice remark codes.")
    procedure_codes: list[str] = Field(default_factory=list)
    diagnosis_codes: list[str] = Field(default_factory=list)
    billed_amount: Decimal | None = None
    paid_amount: Decimal | None = None
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
    decisions: list[DecisionPublic] = Field(default_factory=list, description="Every reviewer decision, oldest first.")


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


# Triage ----------------------------------------------------------------------------------------


class ModelRef(BaseModel):
    """The model bundle that made a prediction."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    version: str
    mlflow_run_id: str | None = None


class ContributionOut(BaseModel):
    """One feature's signed contribution to the predicted class, in the model's raw score units.

    A positive contribution pushed the prediction toward the class; ``description`` says in
    business words what the feature measures.
    """

    feature: str
    description: str
    value: str
    contribution: float


class HeadResult(BaseModel):
    """One head's prediction: the label, its calibrated probability and the top contributions."""

    label: str
    confidence: float = Field(description="Calibrated probability of the label, 0 to 1.")
    threshold: float = Field(description="The bundle's routing threshold for the label.")
    probabilities: dict[str, float] = Field(description="Calibrated probability of every label.")
    contributions: list[ContributionOut] = Field(description="Top contributions to the label, largest first.")


class RouteOut(BaseModel):
    """Where the exception goes: ``auto`` to a named queue, or ``review`` by a person, and why."""

    route: Literal["auto", "review"]
    queue: str
    reason: str
    qa_sample: bool = Field(description="True when a quality-assurance sample sent an automatic route to review.")


class TriageResult(BaseModel):
    prediction_id: str
    exception_id: str
    type: HeadResult
    priority: HeadResult | None
    resolution: HeadResult | None
    route: RouteOut
    model: ModelRef
    latency_ms: float = Field(description="Model time per exception in this batch, in milliseconds.")
    exception_created: bool = Field(description="True when the request's exception was new and is now stored.")


class TriageResponse(BaseModel):
    request_id: str
    model: ModelRef
    results: list[TriageResult]


class RerunResponse(BaseModel):
    """A past prediction, the same exception predicted again by the model version that made it, and whether they agree."""

    prediction_id: str
    model: ModelRef
    original: PredictionPublic
    rerun: TriageResult
    agree: bool
    differences: list[str] = Field(description="Heads whose label changed (type, priority, resolution).")


class PredictionDetail(PredictionPublic):
    """One stored prediction with the feature values it used and its request context."""

    exception_id: str
    run_id: str | None
    feature_values: dict[str, Any]
    request_id: str | None = None
    actor: str | None = None
    mlflow_run_id: str | None = None
    qa_sample: bool | None = None
    heads: dict[str, Any] | None = Field(default=None, description="Every head's label, probabilities and explanation.")


# Work queues and decisions -------------------------------------------------------------------


class QueueStats(BaseModel):
    name: str
    open: int = Field(description="Exceptions in the queue that still need work, assigned ones included.")
    assigned: int = Field(description="Open exceptions a reviewer has claimed.")
    oldest_age_hours: float
    sla_breaches: int = Field(description="Open exceptions older than the SLA (TRIAGE_QUEUE_SLA_HOURS).")


class QueueList(BaseModel):
    sla_hours: float
    queues: list[QueueStats]


class ClaimResponse(BaseModel):
    exception_id: str
    queue: str
    assigned_to: str
    exception: ExceptionDetail


class ReleaseResponse(BaseModel):
    exception_id: str
    queue: str | None = Field(description="The queue the exception is in after the release.")
    status: str = Field(description="The exception's status after the release: in_review, auto_routed or open.")


class DecisionResponse(BaseModel):
    decision_id: str
    exception_id: str
    prediction_id: str | None
    action: str
    type: str
    priority: str | None
    resolution: str | None
    outcome: str | None
    amount_recovered: Decimal | None
    decided_by: str
    decided_at: dt.datetime
    status: str = Field(description="The exception's status after the decision.")


# Documents and jobs ----------------------------------------------------------------------------


class JobFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    size_bytes: int
    document_id: str
    status: str = Field(description="queued, read, failed, duplicate (ingested before) or not_stored.")
    kind: str | None = None
    error: str | None = None


class Job(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    files_total: int
    files_done: int
    files: list[JobFile]
    run_id: str | None
    summary: dict[str, Any] | None
    error: str | None


# KPIs ------------------------------------------------------------------------------------------


class ReconciliationVariance(BaseModel):
    """The reconciliation KPIs of the latest remittance posting run, in dollars; null when a run recorded neither."""

    posting_variance: Decimal | None = Field(description="BPR payment total minus the cash posted to claims.")
    imbalance_total: Decimal | None = Field(
        description="Sum of the absolute differences of remittances whose amounts do not balance."
    )


class Kpis(BaseModel):
    first_pass_validation_rate: float | None = Field(description="Latest value recorded by a run.")
    exceptions_by_type: dict[str, int] = Field(description="Latest predicted type; 'unpredicted' before any.")
    exceptions_by_status: dict[str, int]
    queues: list[QueueStats]
    sla_hours: float
    auto_route_rate: float | None = Field(description="Share of latest predictions routed automatically.")
    override_rate: float | None = Field(description="Share of reviewer decisions that override the model.")
    qa_precision: float | None = Field(
        description="Among decided quality-assurance samples, the share where the reviewer kept the model's type."
    )
    qa_decided: int
    auto_posting_rate: float | None = Field(description="Latest value recorded by a remittance posting run.")
    reconciliation_variance: ReconciliationVariance | None = Field(
        description="Latest values recorded by a remittance posting run; null before any."
    )
    denial_rate_by_payer: dict[str, float] = Field(description="Share of claim payments with CLP02 status 4.")
    latest_run_kpis: dict[str, Decimal | float] = Field(
        description="Newest value of every KPI recorded by a run: amounts of money (reconciliation_posting_variance, "
        "reconciliation_imbalance_total) as decimal strings, rates as numbers."
    )


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    model: ModelRef
