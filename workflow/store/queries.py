"""Read queries of the store: exception lists and details, predictions, counts.

Every function takes an open session and returns plain dicts whose values are JSON-ready apart
from Decimal, date and datetime, which the API's pydantic schemas serialize.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Subquery, exists, func, select
from sqlalchemy.orm import Session

from workflow.store.models import (
    AuditEventRow,
    Base,
    ClaimPaymentRow,
    ClaimRow,
    DocumentRow,
    ExceptionRow,
    FindingRow,
    KpiSnapshotRow,
    PaymentRow,
    PredictionRow,
    ProviderAdjustmentRow,
    RunRow,
)

__all__ = [
    "count_rows",
    "exception_detail",
    "exception_ids_without_prediction",
    "list_exception_summaries",
    "prediction_detail",
    "run_detail",
]

COUNTED_TABLES: dict[str, type[Base]] = {
    "documents": DocumentRow,
    "claims": ClaimRow,
    "claim_payments": ClaimPaymentRow,
    "payments": PaymentRow,
    "provider_adjustments": ProviderAdjustmentRow,
    "findings": FindingRow,
    "exceptions": ExceptionRow,
    "predictions": PredictionRow,
    "audit_events": AuditEventRow,
}

EXCEPTION_FIELDS = (
    "exception_id",
    "kind",
    "code",
    "message",
    "claim_id",
    "payer_id",
    "amount_at_risk",
    "service_date",
    "detected_on",
    "claim_status",
    "status",
    "queue",
    "document_id",
    "created_at",
)

PREDICTION_FIELDS = (
    "prediction_id",
    "exception_id",
    "model_name",
    "model_version",
    "run_id",
    "predicted_type",
    "predicted_priority",
    "predicted_resolution",
    "confidence",
    "threshold",
    "probabilities",
    "explanation",
    "feature_values",
    "route",
    "route_reason",
    "queue",
    "latency_ms",
    "created_at",
)


def _latest_predictions() -> Subquery:
    """Return a subquery with the newest prediction of each exception (ties go to the larger id).

    NOTE: this ranks every stored prediction on each list request. If lists get slow, keep the
    latest prediction id on the exception row instead.
    """
    ranked = select(
        PredictionRow.exception_id,
        PredictionRow.predicted_type,
        PredictionRow.confidence,
        PredictionRow.route,
        func.row_number()
        .over(
            partition_by=PredictionRow.exception_id,
            order_by=(PredictionRow.created_at.desc(), PredictionRow.prediction_id.desc()),
        )
        .label("rank"),
    ).subquery("ranked_predictions")
    return (
        select(ranked.c.exception_id, ranked.c.predicted_type, ranked.c.confidence, ranked.c.route)
        .where(ranked.c.rank == 1)
        .subquery("latest_predictions")
    )


def list_exception_summaries(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    payer_id: str | None = None,
    predicted_type: str | None = None,
    route: str | None = None,
    queue: str | None = None,
    min_amount: Decimal | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Return one page of exception summaries, newest first, and the number of matching exceptions.

    ``predicted_type`` and ``route`` filter on each exception's latest prediction.
    """
    latest = _latest_predictions()
    query: Select[Any] = select(
        ExceptionRow, latest.c.predicted_type, latest.c.confidence, latest.c.route
    ).outerjoin(latest, latest.c.exception_id == ExceptionRow.exception_id)

    column_filters = {
        ExceptionRow.kind: kind,
        ExceptionRow.status: status,
        ExceptionRow.payer_id: payer_id,
        ExceptionRow.queue: queue,
        latest.c.predicted_type: predicted_type,
        latest.c.route: route,
    }
    for column, value in column_filters.items():
        if value is not None:
            query = query.where(column == value)
    if min_amount is not None:
        query = query.where(ExceptionRow.amount_at_risk >= min_amount)

    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0

    page = query.order_by(ExceptionRow.created_at.desc(), ExceptionRow.exception_id).limit(limit).offset(offset)
    items = [
        _exception_summary(row, predicted_type=row_type, confidence=row_confidence, route=row_route)
        for row, row_type, row_confidence, row_route in session.execute(page)
    ]
    return items, total


def _exception_summary(
    row: ExceptionRow, *, predicted_type: str | None, confidence: float | None, route: str | None
) -> dict[str, Any]:
    summary = {name: getattr(row, name) for name in EXCEPTION_FIELDS}
    summary["predicted_type"] = predicted_type
    summary["confidence"] = confidence
    summary["route"] = route
    return summary


def exception_detail(session: Session, exception_id: str) -> dict[str, Any] | None:
    """Return an exception with its evidence, source, predictions (newest first) and audit trail."""
    row = session.get(ExceptionRow, exception_id)
    if row is None:
        return None

    prediction_rows = session.scalars(
        select(PredictionRow)
        .where(PredictionRow.exception_id == exception_id)
        .order_by(PredictionRow.created_at.desc(), PredictionRow.prediction_id.desc())
    ).all()
    predictions = [_prediction_dict(prediction) for prediction in prediction_rows]
    latest = predictions[0] if predictions else None

    detail = _exception_summary(
        row,
        predicted_type=latest["predicted_type"] if latest else None,
        confidence=latest["confidence"] if latest else None,
        route=latest["route"] if latest else None,
    )
    detail.update(
        run_id=row.run_id,
        updated_at=row.updated_at,
        evidence=row.evidence,
        source=row.source,
        latest_prediction=latest,
        predictions=predictions,
        audit_events=_audit_events(session, entity="exception", entity_id=exception_id),
    )
    return detail


def _audit_events(session: Session, *, entity: str, entity_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEventRow)
        .where(AuditEventRow.entity == entity, AuditEventRow.entity_id == entity_id)
        .order_by(AuditEventRow.id)
    ).all()
    return [
        {
            "id": row.id,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "action": row.action,
            "actor": row.actor,
            "at": row.at,
            "details": row.details,
        }
        for row in rows
    ]


def _prediction_dict(row: PredictionRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PREDICTION_FIELDS}


def prediction_detail(session: Session, prediction_id: str) -> dict[str, Any] | None:
    row = session.get(PredictionRow, prediction_id)
    return None if row is None else _prediction_dict(row)


def count_rows(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in COUNTED_TABLES.items()
    }


def exception_ids_without_prediction(session: Session) -> list[str]:
    """Return the ids of exceptions that have no prediction yet, oldest first."""
    has_prediction = exists().where(PredictionRow.exception_id == ExceptionRow.exception_id)
    query = (
        select(ExceptionRow.exception_id)
        .where(~has_prediction)
        .order_by(ExceptionRow.created_at, ExceptionRow.exception_id)
    )
    return list(session.scalars(query))


def run_detail(session: Session, run_id: str) -> dict[str, Any] | None:
    """Return a run with its summary and the KPI values recorded for it, in recording order."""
    row = session.get(RunRow, run_id)
    if row is None:
        return None
    kpis = session.scalars(
        select(KpiSnapshotRow).where(KpiSnapshotRow.run_id == run_id).order_by(KpiSnapshotRow.id)
    ).all()
    return {
        "run_id": row.id,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "summary": row.summary,
        "kpis": [{"name": kpi.name, "value": kpi.value, "at": kpi.at} for kpi in kpis],
    }


def chunked(values: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    """Yield lists of at most ``size`` values, so an IN clause stays under driver parameter limits."""
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
