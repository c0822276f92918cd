"""Exception list and detail."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from serving.api.deps import StoreDep
from serving.api.schemas import ExceptionDetail, ExceptionSummary, Page, Problem

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"])

MAX_PAGE_SIZE = 500
# Filter values are ids and codes, and no stored id or code is longer than 80 characters.
FilterText = Annotated[str | None, Query(min_length=1, max_length=80)]
PredictedTypeFilter = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Type of the latest prediction.")
]
RouteFilter = Annotated[
    str | None, Query(min_length=1, max_length=32, description="Route of the latest prediction (auto or review).")
]
PROBLEM_RESPONSES = {422: {"model": Problem, "description": "A parameter is invalid."}}


@router.get("", response_model=Page[ExceptionSummary], responses=PROBLEM_RESPONSES)
def list_exceptions(
    store: StoreDep,
    kind: FilterText = None,
    status: FilterText = None,
    payer_id: FilterText = None,
    predicted_type: PredictedTypeFilter = None,
    route: RouteFilter = None,
    queue: FilterText = None,
    min_amount: Annotated[
        Decimal | None,
        Query(ge=0, max_digits=14, decimal_places=2, description="Minimum amount at risk, in dollars."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ExceptionSummary]:
    """List exceptions, newest first, filtered by any combination of the query parameters."""
    items, total = store.list_exceptions(
        kind=kind,
        status=status,
        payer_id=payer_id,
        predicted_type=predicted_type,
        route=route,
        queue=queue,
        min_amount=min_amount,
        limit=limit,
        offset=offset,
    )
    summaries = [ExceptionSummary.model_validate(item) for item in items]
    return Page[ExceptionSummary](items=summaries, total=total, limit=limit, offset=offset)


@router.get(
    "/{exception_id}",
    response_model=ExceptionDetail,
    responses={404: {"model": Problem, "description": "No exception has this id."}, **PROBLEM_RESPONSES},
)
def read_exception(
    store: StoreDep, exception_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> ExceptionDetail:
    """Return one exception with its evidence, source position, predictions and audit trail."""
    detail = store.get_exception(exception_id)
    if detail is None:
        # The id stays out of the message: callers may have put a claim or member id there.
        raise HTTPException(
            404, detail="No exception has the requested id. List exceptions with GET /v1/exceptions to find one."
        )
    return ExceptionDetail.model_validate(detail)
