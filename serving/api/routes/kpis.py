"""GET /v1/kpis: the operating figures of the exception workflow."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.deps import SettingsDep, StoreDep
from serving.api.routes.triage import AUTH_RESPONSES
from serving.api.schemas import Kpis
from serving.api.security import AnyRole
from workflow.store.governance import compute_kpis

router = APIRouter(prefix="/v1", tags=["kpis"])


@router.get("/kpis", response_model=Kpis, responses=AUTH_RESPONSES)
def read_kpis(_caller: AnyRole, store: StoreDep, settings: SettingsDep) -> Kpis:
    """Return validation, routing, review and posting KPIs measured on the whole store."""
    return Kpis(**compute_kpis(store, sla_hours=settings.queue_sla_hours))
