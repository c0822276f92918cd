"""Work queues: their size and age, and claiming the next exception."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response

from serving.api.requests import NO_NUL
from serving.api.deps import SettingsDep, StoreDep
from serving.api.routes.exceptions import exception_detail
from serving.api.routes.triage import AUTH_RESPONSES
from serving.api.schemas import ClaimResponse, Problem, QueueList, QueueStats
from serving.api.security import AnyRole, ReviewerOrAdmin
from serving.routing import REVIEW_QUEUE
from workflow.store.governance import claim_next, queue_stats
from workflow.taxonomy import EXCEPTION_TYPES

router = APIRouter(prefix="/v1/queues", tags=["queues"])

QueueName = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="A queue name, e.g. review or auto.coding.")]
AUTO_QUEUE_PREFIX = "auto."
UNKNOWN_QUEUE_DETAIL = (
    "No queue has this name. The queues are review and auto.<type> for an exception type, such as "
    "auto.coding; GET /v1/queues lists the queues that contain open exceptions."
)


@router.get("", response_model=QueueList, responses=AUTH_RESPONSES)
def list_queues(_caller: AnyRole, store: StoreDep, settings: SettingsDep) -> QueueList:
    """List every queue that contains open exceptions, with its size, oldest age and SLA breaches."""
    stats = queue_stats(store, sla_hours=settings.queue_sla_hours)
    return QueueList(sla_hours=settings.queue_sla_hours, queues=[QueueStats(**item) for item in stats])


@router.post(
    "/{name}/claim",
    response_model=ClaimResponse,
    responses={
        **AUTH_RESPONSES,
        204: {"description": "The queue has no unclaimed exception."},
        404: {"model": Problem, "description": "No queue has this name."},
    },
)
def claim(
    request: Request, caller: ReviewerOrAdmin, store: StoreDep, name: QueueName
) -> ClaimResponse | Response:
    """Hand the caller the most urgent unclaimed exception of the queue; no two callers get the same one.

    Urgency is the latest predicted priority (critical, high, normal, low), then the amount at
    risk, largest first, then age, oldest first. The exception's status becomes `assigned`.
    A queue is `review` or `auto.<type>` for an exception type; another name gets 404, and a
    known queue without unclaimed exceptions gets 204.
    """
    if name not in known_queues(request):
        # The name stays out of the message, like every path value.
        raise HTTPException(404, detail=UNKNOWN_QUEUE_DETAIL)
    claimed = claim_next(store, queue=name, reviewer=caller.name)
    if claimed is None:
        return Response(status_code=204)
    detail = exception_detail(store, claimed["exception_id"])
    return ClaimResponse(**claimed, exception=detail)


def known_queues(request: Request) -> frozenset[str]:
    """Return the names routing can give a queue: review, and auto.<type> for each type of the taxonomy and the model."""
    types = set(EXCEPTION_TYPES)
    model = request.app.state.model
    head = model.heads.get("type") if model is not None else None
    if head is not None:
        # A bundle carries the labels it was trained on, which may differ from the taxonomy's.
        types.update(head.labels)
    return frozenset({REVIEW_QUEUE, *(AUTO_QUEUE_PREFIX + type_ for type_ in types)})
