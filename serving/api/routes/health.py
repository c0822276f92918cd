"""Liveness check."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.deps import StoreDep
from serving.api.schemas import Health, Problem

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
