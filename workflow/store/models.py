"""ORM models of the triage store: one table per record kind, plus runs, audit events and KPIs.

Every record table keeps the typed columns that queries filter on and the whole record as JSON in
``data`` (the output of :func:`workflow.records.record_to_dict`), so nothing the readers produced
is lost even when no column stores it. The tables are created by the Alembic migrations in
``migrations/versions``; keep both in step when a column changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflow.store.types import Money, UtcDateTime

__all__ = [
    "AuditEventRow",
    "Base",
    "ClaimPaymentRow",
    "ClaimRow",
    "DocumentRow",
    "ExceptionRow",
    "FindingRow",
    "KpiSnapshotRow",
    "PaymentRow",
    "PredictionRow",
    "ProviderAdjustmentRow",
    "RunRow",
]

# Fixed constraint names let migrations drop or alter a constraint by name on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 64
# Identifiers read from X12 elements: NM109 and the other id elements allow up to 80 characters.
X12_ID_LENGTH = 80
CODE_LENGTH = 64


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        Decimal: Money,
        dt.datetime: UtcDateTime,
        dt.date: Date,
    }


class RunRow(Base):
    """One run of the pipeline: ingestion, checks, prediction and routing of a batch."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    summary: Mapped[dict[str, Any] | None]


class DocumentRow(Base):
    """One input file, keyed by the SHA-256 of its bytes so the same file is stored once."""

    __tablename__ = "documents"

    document_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    ingested_at: Mapped[dt.datetime]
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)


class ClaimRow(Base):
    """One 837 claim, keyed within its document by the segment index of its CLM segment."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("document_id", "segment_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(X12_ID_LENGTH), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    patient_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    billing_npi: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    total_charge: Mapped[Decimal]
    service_date: Mapped[dt.date | None]
    claim_type: Mapped[str] = mapped_column(String(32))
    frequency_code: Mapped[str | None] = mapped_column(String(8))
    data: Mapped[dict[str, Any]]


class ClaimPaymentRow(Base):
    """One 835 claim payment (CLP loop), keyed within its document by its segment index."""

    __tablename__ = "claim_payments"
    __table_args__ = (UniqueConstraint("document_id", "segment_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(X12_ID_LENGTH), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    payer_claim_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    status: Mapped[str] = mapped_column(String(8))
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    patient_responsibility: Mapped[Decimal | None]
    trace_number: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    service_date: Mapped[dt.date | None]
    matched_claim_pk: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    data: Mapped[dict[str, Any]]


class PaymentRow(Base):
    """The payment header of one 835 transaction."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    trace_number: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    amount: Mapped[Decimal]
    payment_date: Mapped[dt.date | None]
    data: Mapped[dict[str, Any]]


class ProviderAdjustmentRow(Base):
    """One PLB provider-level adjustment of an 835 transaction."""

    __tablename__ = "provider_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    segment_index: Mapped[int | None]
    provider_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    reason: Mapped[str] = mapped_column(String(8))
    reference: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    amount: Mapped[Decimal]
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    trace_number: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH))
    fiscal_period_date: Mapped[dt.date | None]
    data: Mapped[dict[str, Any]]


class FindingRow(Base):
    """One problem found while reading or checking a document."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.document_id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    claim_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    message: Mapped[str] = mapped_column(Text)
    element: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[str | None] = mapped_column(Text)
    expected: Mapped[str | None] = mapped_column(Text)
    rule_set_version: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[dict[str, Any]]


class ExceptionRow(Base):
    """One exception: a unit of work for a reviewer or an automatic route.

    ``document_id`` has no foreign key on purpose: an exception may be raised about a document
    the store never saved (a file that could not be read at all, an invoice from another system).
    """

    __tablename__ = "exceptions"

    exception_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    claim_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    payer_id: Mapped[str | None] = mapped_column(String(X12_ID_LENGTH), index=True)
    amount_at_risk: Mapped[Decimal]
    service_date: Mapped[dt.date | None]
    detected_on: Mapped[dt.date]
    claim_status: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    queue: Mapped[str | None] = mapped_column(String(CODE_LENGTH), index=True)
    document_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    updated_at: Mapped[dt.datetime]
    evidence: Mapped[dict[str, Any]]
    source: Mapped[dict[str, Any]]


class PredictionRow(Base):
    """One model prediction for one exception, with the route and queue it chose.

    ``run_id`` is whatever run the caller names (pipeline run or model training run), so it has
    no foreign key.
    """

    __tablename__ = "predictions"
    __table_args__ = (Index("ix_predictions_exception_id_created_at", "exception_id", "created_at"),)

    prediction_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    exception_id: Mapped[str] = mapped_column(ForeignKey("exceptions.exception_id"), index=True)
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    predicted_type: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    predicted_priority: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    predicted_resolution: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    confidence: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    probabilities: Mapped[dict[str, Any]]
    explanation: Mapped[list[Any]]
    feature_values: Mapped[dict[str, Any]]
    route: Mapped[str] = mapped_column(String(32), index=True)
    route_reason: Mapped[str] = mapped_column(Text)
    queue: Mapped[str | None] = mapped_column(String(CODE_LENGTH))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime]


class AuditEventRow(Base):
    """One append-only audit event; database triggers reject UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime]
    details: Mapped[dict[str, Any]]


class KpiSnapshotRow(Base):
    """One KPI value measured at the end of a run."""

    __tablename__ = "kpi_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    name: Mapped[str] = mapped_column(String(CODE_LENGTH))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime]

# The API governance tables live in their own module; importing it registers them on Base.
from workflow.store import models_governance as _models_governance  # noqa: E402,F401
from workflow.store import models_posting as _models_posting  # noqa: E402,F401
