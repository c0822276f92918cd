"""POST /v1/triage: predict, explain and route one exception or a batch, and store every prediction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Request

from serving.api.deps import ModelDep, RequestIdDep, StoreDep
from serving.api.requests import ExceptionIn, TriageBatch, TriageBody
from serving.api.schemas import ContributionOut, HeadResult, ModelRef, Problem, RouteOut, TriageResponse, TriageResult
from serving.api.security import WorkflowOrAdmin
from serving.model import HeadPrediction, TriageModel
from serving.triage import TriageOutcome, triage_batch
from workflow.store.governance import PredictionContext, save_api_predictions

__all__ = ["head_result", "model_ref", "router", "triage_result"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["triage"])

AUTH_RESPONSES = {
    401: {"model": Problem, "description": "The API key is missing, unknown or revoked."},
    403: {"model": Problem, "description": "The key's role may not call this endpoint."},
}
TRIAGE_RESPONSES = {
    **AUTH_RESPONSES,
    413: {"model": Problem, "description": "The body is larger than TRIAGE_MAX_JSON_BYTES."},
    422: {"model": Problem, "description": "A field is invalid; the problem names it."},
    503: {"model": Problem, "description": "No model is loaded, or the database is unavailable."},
}


@router.post("/triage", response_model=TriageResponse, responses=TRIAGE_RESPONSES)
def triage(
    request: Request,
    caller: WorkflowOrAdmin,
    store: StoreDep,
    model: ModelDep,
    request_id: RequestIdDep,
    body: Annotated[TriageBody, Body(description="One exception, or {\"exceptions\": [...]} with up to 1,000.")],
) -> TriageResponse:
    """Predict type, priority and resolution, explain each predicted class, route, and store the predictions.

    An exception that is not in the store yet is stored from the request body (with a `created`
    audit event naming the caller), so every prediction has its exception. A stored exception is
    left as it is and gets the new prediction.
    """
    exceptions: Sequence[ExceptionIn] = body.exceptions if isinstance(body, TriageBatch) else [body]
    payloads = [exception.to_payload() for exception in exceptions]
    # NOTE: history features here count the bundle's snapshot plus the request's batch; `triage run`
    # also counts the stored exceptions since the bundle was built (serving.run.store_history).
    outcomes = triage_batch(payloads, model, policy=request.app.state.policy)

    actor = f"api:{caller.name}"
    contexts = [_context(outcome, request_id=request_id, actor=actor, model=model) for outcome in outcomes]
    created = save_api_predictions(
        store,
        [outcome.prediction for outcome in outcomes],
        contexts,
        new_exceptions=[exception.to_record() for exception in exceptions],
        actor=actor,
    )

    metrics = request.app.state.metrics
    for route in ("auto", "review"):
        count = sum(1 for outcome in outcomes if outcome.decision.route == route)
        if count:
            metrics.count_predictions(route, count)
    logger.info("request %s triaged %d exceptions (%d new)", request_id, len(outcomes), len(created))

    created_ids = set(created)
    return TriageResponse(
        request_id=request_id,
        model=model_ref(model),
        results=[triage_result(outcome, model, exception_created=outcome.prediction.exception_id in created_ids)
                 for outcome in outcomes],
    )


def _context(outcome: TriageOutcome, *, request_id: str, actor: str, model: TriageModel) -> PredictionContext:
    heads = {
        name: {
            "label": head.label,
            "confidence": round(head.confidence, 6),
            "threshold": round(head.threshold, 6),
            "probabilities": head.probabilities,
            "explanation": [
                {"feature": item.feature, "value": item.value, "contribution": item.contribution}
                for item in head.explanation
            ],
        }
        for name, head in outcome.heads.items()
    }
    return PredictionContext(
        prediction_id=outcome.prediction.prediction_id,
        request_id=request_id,
        actor=actor,
        mlflow_run_id=model.run_id,
        qa_sample=outcome.decision.qa_sample,
        heads=heads,
    )


def model_ref(model: TriageModel) -> ModelRef:
    return ModelRef(name=model.name, version=model.version, mlflow_run_id=model.run_id)


def feature_descriptions(model: TriageModel) -> dict[str, str]:
    """Return each feature's meaning in business words, from the bundle's feature specification."""
    cached = getattr(model, "_api_feature_descriptions", None)
    if cached is None:
        from features.pipeline import FEATURE_DESCRIPTIONS

        spec = model.metadata.get("feature_spec", {}).get("features", [])
        cached = dict(FEATURE_DESCRIPTIONS)
        cached.update({item["name"]: item["description"] for item in spec if item.get("description")})
        model._api_feature_descriptions = cached  # type: ignore[attr-defined]
    return cached


def head_result(head: HeadPrediction, descriptions: dict[str, str]) -> HeadResult:
    return HeadResult(
        label=head.label,
        confidence=round(head.confidence, 6),
        threshold=round(head.threshold, 6),
        probabilities=head.probabilities,
        contributions=[
            ContributionOut(
                feature=item.feature,
                description=descriptions.get(item.feature, item.feature),
                value=item.value,
                contribution=item.contribution,
            )
            for item in head.explanation
        ],
    )


def triage_result(outcome: TriageOutcome, model: TriageModel, *, exception_created: bool) -> TriageResult:
    descriptions = feature_descriptions(model)
    heads = outcome.heads
    decision = outcome.decision
    return TriageResult(
        prediction_id=outcome.prediction.prediction_id,
        exception_id=outcome.prediction.exception_id,
        type=head_result(heads["type"], descriptions),
        priority=head_result(heads["priority"], descriptions) if "priority" in heads else None,
        resolution=head_result(heads["resolution"], descriptions) if "resolution" in heads else None,
        route=RouteOut(route=decision.route, queue=decision.queue, reason=decision.reason, qa_sample=decision.qa_sample),
        model=model_ref(model),
        latency_ms=outcome.prediction.latency_ms or 0.0,
        exception_created=exception_created,
    )
