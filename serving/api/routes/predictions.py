"""Stored predictions, and re-runs of a past prediction with the model version that made it."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request

from serving.api.requests import NO_NUL
from serving.api.deps import StoreDep
from serving.api.routes.triage import AUTH_RESPONSES, model_ref, triage_result
from serving.api.schemas import PredictionDetail, PredictionPublic, Problem, RerunResponse
from serving.api.security import AdminOnly, AnyRole
from serving.triage import triage_batch
from workflow.records import record_to_dict
from workflow.store.governance import prediction_context, record_prediction_audit

router = APIRouter(prefix="/v1/predictions", tags=["predictions"])

logger = logging.getLogger(__name__)

PredictionId = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]
NOT_FOUND = {404: {"model": Problem, "description": "No prediction has this id."}}
NOT_FOUND_DETAIL = "No prediction has the requested id. Read an exception's predictions with GET /v1/exceptions/{id}."
COMPARED_HEADS = (("type", "predicted_type"), ("priority", "predicted_priority"), ("resolution", "predicted_resolution"))


@router.get("/{prediction_id}", response_model=PredictionDetail, responses={**NOT_FOUND, **AUTH_RESPONSES})
def read_prediction(_caller: AnyRole, store: StoreDep, prediction_id: PredictionId) -> PredictionDetail:
    """Return one prediction with its feature values, every head's result and the request that made it."""
    stored = store.get_prediction(prediction_id)
    if stored is None:
        raise HTTPException(404, detail=NOT_FOUND_DETAIL)
    context = prediction_context(store, prediction_id) or {}
    return PredictionDetail.model_validate({**stored, **context})


@router.post(
    "/{prediction_id}/rerun",
    response_model=RerunResponse,
    responses={
        **NOT_FOUND,
        **AUTH_RESPONSES,
        409: {"model": Problem, "description": "The model version that made the prediction is not in the registry."},
    },
)
def rerun_prediction(request: Request, caller: AdminOnly, store: StoreDep, prediction_id: PredictionId) -> RerunResponse:
    """Predict the exception again with the model version that made the prediction, and compare.

    The re-run is not stored as a prediction and routes nothing. An audit event on the prediction
    records who re-ran it and whether the results agree.
    """
    stored = store.get_prediction(prediction_id)
    if stored is None:
        raise HTTPException(404, detail=NOT_FOUND_DETAIL)
    model = request.app.state.registry.get(stored["model_version"])
    if model is None:
        raise HTTPException(
            409, detail="The model version that made this prediction is not in the registry: "
            "add its bundle folder to TRIAGE_MODEL_REGISTRY_PATHS and restart the API.",
        )
    exceptions = store.load_exceptions([stored["exception_id"]])
    if not exceptions:
        raise HTTPException(404, detail="The prediction's exception is no longer stored.")

    outcome = triage_batch([record_to_dict(exceptions[0])], model, policy=request.app.state.policy)[0]
    differences = [
        head for head, column in COMPARED_HEADS
        if head in outcome.heads and outcome.heads[head].label != stored[column]
    ]
    record_prediction_audit(
        store, prediction_id=prediction_id, action="rerun", actor=caller.name,
        details={"model_version": model.version, "agree": not differences, "differences": differences},
    )
    logger.info("prediction %s re-run with %s: agree=%s", prediction_id, model.version, not differences)
    return RerunResponse(
        prediction_id=prediction_id,
        model=model_ref(model),
        original=PredictionPublic.model_validate(stored),
        rerun=triage_result(outcome, model, exception_created=False),
        agree=not differences,
        differences=differences,
    )
