"""Liveness, readiness and metrics; none of them needs an API key."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from serving.api.deps import StoreDep
from serving.api.schemas import Health, ModelRef, Problem, Ready

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Problem, "description": "The database cannot be reached."}},
)
def read_health(store: StoreDep) -> Health:
    """Return ok when the service runs and its database responds to ``SELECT 1``."""
    store.ping()
    return Health()


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Problem, "description": "The database cannot be reached or no model is loaded."}},
)
def read_ready(request: Request, store: StoreDep) -> Ready:
    """Return ready when the database responds and a model bundle is loaded."""
    store.ping()
    model = request.app.state.model
    if model is None:
        raise HTTPException(503, detail="No model bundle is loaded. Build one with `triage train` and restart the API.")
    return Ready(model=ModelRef(name=model.name, version=model.version, mlflow_run_id=model.run_id))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def read_metrics(request: Request) -> Response:
    """Return request counts and latencies, predictions by route and the model version, for Prometheus."""
    metrics = request.app.state.metrics
    return Response(content=metrics.render(), media_type=metrics.content_type)
