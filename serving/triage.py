"""Triage exceptions: predict with the model bundle, explain, and route by the policy."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from serving.model import HeadPrediction, TriageModel
from serving.routing import RouteDecision, RoutingPolicy, route_exception
from workflow.records import ExceptionRecord, PredictionRecord, record_to_dict

logger = logging.getLogger(__name__)

__all__ = ["TriageOutcome", "triage_batch", "triage_exceptions", "triage_payloads"]


@dataclass(frozen=True)
class TriageOutcome:
    """One exception's prediction record, the routing decision behind it, and every head's result."""

    prediction: PredictionRecord
    decision: RouteDecision
    heads: dict[str, HeadPrediction]


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def _unseen_kind(payload: Mapping[str, Any], known: Collection[str] | None) -> str | None:
    """Return the exception's kind when the model's training data held no exception of that kind.

    ``known`` contains the kinds the model was trained on (None when the bundle does not list them).
    """
    kind = payload.get("kind")
    if kind is None or known is None or str(kind) in known:
        return None
    return str(kind)


def _feature_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the row as the prediction record stores it, with None for NaN, which JSON cannot carry."""
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


def triage_batch(
    payloads: Sequence[Mapping[str, Any]],
    model: TriageModel,
    *,
    policy: RoutingPolicy | None = None,
    run_id: str | None = None,
    history: ExceptionHistory | None = None,
) -> list[TriageOutcome]:
    """Predict, explain and route exceptions given in their JSON form, as one vectorised batch.

    ``latency_ms`` of each prediction is the batch's model time divided by the batch size.
    """
    if not payloads:
        return []
    started = time.perf_counter()
    rows, heads = model.predict(payloads, history=history)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    latency_ms = round(elapsed_ms / len(payloads), 3)
    now = dt.datetime.now(dt.UTC)

    # Looked up once per batch, because they are the same for every exception.
    levels = model.spec.levels.get("kind")
    known_kinds = frozenset(levels) if levels is not None else None
    model_name, model_version = model.name, model.version
    head_lists = list(heads.items())
    type_predictions = heads["type"]
    priorities = heads.get("priority")
    resolutions = heads.get("resolution")

    outcomes = []
    for i, payload in enumerate(payloads):
        item_heads = {name: predictions[i] for name, predictions in head_lists}
        type_prediction = type_predictions[i]
        priority = priorities[i].label if priorities is not None else None
        resolution = resolutions[i].label if resolutions is not None else None
        exception_id = str(payload["exception_id"])
        decision = route_exception(
            exception_id=exception_id,
            predicted_type=type_prediction.label,
            confidence=type_prediction.confidence,
            threshold=type_prediction.threshold,
            amount_at_risk=_amount(payload.get("amount_at_risk")),
            predicted_resolution=resolution,
            policy=policy,
            unseen_kind=_unseen_kind(payload, known_kinds),
        )
        prediction = PredictionRecord(
            prediction_id=f"pred_{uuid.uuid4().hex[:20]}",
            exception_id=exception_id,
            model_name=model_name,
            model_version=model_version,
            predicted_type=type_prediction.label,
            confidence=round(type_prediction.confidence, 6),
            threshold=round(type_prediction.threshold, 6),
            probabilities=type_prediction.probabilities,
            explanation=type_prediction.explanation,
            feature_values=_feature_values(rows[i]),
            route=decision.route,
            route_reason=decision.reason,
            queue=decision.queue,
            created_at=now,
            latency_ms=latency_ms,
            predicted_priority=priority,
            predicted_resolution=resolution,
            run_id=run_id,
        )
        outcomes.append(TriageOutcome(prediction=prediction, decision=decision, heads=item_heads))

    auto = sum(1 for outcome in outcomes if outcome.decision.route == "auto")
    logger.info("triaged %d exceptions with %s@%s: %d auto, %d review",
                len(outcomes), model_name, model_version, auto, len(outcomes) - auto)
    return outcomes


def triage_payloads(
    payloads: Sequence[Mapping[str, Any]],
    model: TriageModel,
    *,
    policy: RoutingPolicy | None = None,
    run_id: str | None = None,
    history: ExceptionHistory | None = None,
) -> list[PredictionRecord]:
    """Predict, explain and route exceptions given in their JSON form; return the prediction records."""
    outcomes = triage_batch(payloads, model, policy=policy, run_id=run_id, history=history)
    return [outcome.prediction for outcome in outcomes]


def triage_exceptions(
    exceptions: Sequence[ExceptionRecord],
    model: TriageModel,
    *,
    policy: RoutingPolicy | None = None,
    run_id: str | None = None,
    batch_size: int = 1000,
    history: ExceptionHistory | None = None,
) -> list[PredictionRecord]:
    """Triage exception records in batches of ``batch_size``."""
    predictions: list[PredictionRecord] = []
    for start in range(0, len(exceptions), batch_size):
        batch = [record_to_dict(e) for e in exceptions[start:start + batch_size]]
        predictions.extend(triage_payloads(batch, model, policy=policy, run_id=run_id, history=history))
    return predictions
