"""Work queues: their size and age, and claiming the next exception."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from serving.api.requests import NO_NUL
from serving.api.deps import SettingsDep, StoreDep
from serving.api.routes.exceptions import exception_detail
from serving.api.routes.triage import AUTH_RESPONSES
from serving.api.schemas import ClaimResponse, QueueList, QueueStats
from serving.api.security import AnyRole, ReviewerOrAdmin
from workflow.store.governance import claim_next, queue_stats

router = APIRouter(prefix="/v1/queues", tags=["queues"])

QueueName = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="A queue name, e.g. review or auto.coding.")]


@router.get("", response_model=QueueList, responses=AUTH_RESPONSES)
def list_queues(_caller: AnyRole, store: StoreDep, settings: SettingsDep) -> QueueList:
    """List every queue that contains open exceptions, with its size, oldest age and SLA breaches."""
    stats = queue_stats(store, sla_hours=settings.queue_sla_hours)
    return QueueList(sla_hours=settings.queue_sla_hours, queues=[QueueStats(**item) for item in stats])


@router.post(
    "/{name}/claim",
    response_model=ClaimResponse,
    responses={**AUTH_RESPONSES, 204: {"description": "The queue has no unclaimed exception."}},
)
def claim(caller: ReviewerOrAdmin, store: StoreDep, name: QueueName) -> ClaimResponse | Response:
    """Hand the caller the most urgent unclaimed exception of the queue; no two callers get the same one.

    Urgency is the latest predicted priority (critical, high, normal, low), then the amount at
    risk, largest first, then age, oldest first. The exception's status becomes `assigned`.
    """
    claimed = claim_next(store, queue=name, reviewer=caller.name)
    if claimed is None:
        return Response(status_code=204)
    detail = exception_detail(store, claimed["exception_id"])
    return ClaimResponse(**claimed, exception=detail)
