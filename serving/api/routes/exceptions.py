"""Exception list and detail, and reviewer decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request

from serving.api.deps import StoreDep
from serving.api.requests import NO_NUL, DecisionRequest
from serving.api.schemas import DecisionResponse, ExceptionDetail, ExceptionSummary, Page, Problem, ReleaseResponse
from serving.api.security import ADMIN, AnyRole, ReviewerOrAdmin
from workflow.store import Store
from workflow.store.governance import (
    EXCEPTION_KINDS,
    EXCEPTION_STATUSES,
    AlreadyResolvedError,
    ClaimedByAnotherError,
    NotClaimedError,
    exception_decisions,
    list_exceptions as list_exception_page,
    record_decision,
    release_claim,
)
from workflow.taxonomy import EXCEPTION_TYPES

router = APIRouter(prefix="/v1/exceptions", tags=["exceptions"])

MAX_PAGE_SIZE = 500
# Filter values are ids and codes, and no stored id or code is longer than 80 characters.
FilterText = Annotated[str | None, Query(min_length=1, max_length=80, pattern=NO_NUL)]
# Filters with a closed set of values reject a typo with 422 and the allowed values, where a free
# text filter would return an empty page. Literal[tuple] is Literal of each item.
# NOTE: POST /v1/triage stores any kind a client sends; exceptions of another kind are listed
# without the kind filter.
KindFilter = Annotated[
    Literal[EXCEPTION_KINDS] | None, Query(description="How the exception was detected.")  # type: ignore[valid-type]
]
StatusFilter = Annotated[
    Literal[EXCEPTION_STATUSES] | None, Query(description="The exception's status.")  # type: ignore[valid-type]
]
PredictedTypeFilter = Annotated[
    Literal[EXCEPTION_TYPES] | None, Query(description="Type of the latest prediction.")  # type: ignore[valid-type]
]
RouteFilter = Annotated[Literal["auto", "review"] | None, Query(description="Route of the latest prediction.")]
AmountFilter = Annotated[Decimal | None, Query(ge=0, max_digits=14, decimal_places=2)]
AgeFilter = Annotated[int | None, Query(ge=0, le=36500)]
ExceptionId = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]

AUTH_RESPONSES = {
    401: {"model": Problem, "description": "The API key is missing, unknown or revoked."},
    403: {"model": Problem, "description": "The key's role may not call this endpoint."},
}
PROBLEM_RESPONSES = {422: {"model": Problem, "description": "A parameter is invalid."}, **AUTH_RESPONSES}
NOT_FOUND = {404: {"model": Problem, "description": "No exception has this id."}}
NOT_FOUND_DETAIL = "No exception has the requested id. List exceptions with GET /v1/exceptions to find one."
ALREADY_RESOLVED = {
    409: {
        "model": Problem,
        "description": "The exception is resolved and the decision does not set reopen, "
        "or another reviewer has claimed it.",
    }
}
ALREADY_RESOLVED_DETAIL = (
    "The exception is already resolved, and a second decision would replace its outcome. Send the "
    "decision again with \"reopen\": true to reopen the exception and record it, or leave the exception as it is."
)
CLAIMED_BY_ANOTHER_DETAIL = (
    "Another reviewer has claimed this exception from its queue and has not decided it yet. Claim the next "
    "item with POST /v1/queues/{name}/claim, or ask an admin to decide or release it; an admin key overrides "
    "the claim."
)

# Fields of the stored evidence that the detail also shows at the top level, in the shape
# POST /v1/triage reads.
EVIDENCE_FIELDS = ("group_codes", "carc_codes", "rarc_codes", "procedure_codes", "diagnosis_codes",
                   "billed_amount", "paid_amount")


@router.get("", response_model=Page[ExceptionSummary], responses=PROBLEM_RESPONSES)
def list_exceptions(
    _caller: AnyRole,
    store: StoreDep,
    kind: KindFilter = None,
    status: StatusFilter = None,
    payer_id: FilterText = None,
    predicted_type: PredictedTypeFilter = None,
    route: RouteFilter = None,
    queue: FilterText = None,
    min_amount: Annotated[AmountFilter, Query(description="Minimum amount at risk, in dollars.")] = None,
    max_amount: Annotated[AmountFilter, Query(description="Maximum amount at risk, in dollars.")] = None,
    min_age_days: Annotated[AgeFilter, Query(description="Only exceptions detected at least this many days ago.")] = None,
    max_age_days: Annotated[AgeFilter, Query(description="Only exceptions detected at most this many days ago.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[ExceptionSummary]:
    """List exceptions, newest first, filtered by any combination of the query parameters.

    Age is counted in days from the day the exception was detected to today (UTC).
    """
    today = dt.datetime.now(dt.timezone.utc).date()
    items, total = list_exception_page(
        store,
        filters={"kind": kind, "status": status, "payer_id": payer_id, "queue": queue,
                 "predicted_type": predicted_type, "route": route},
        min_amount=min_amount,
        max_amount=max_amount,
        detected_on_or_before=today - dt.timedelta(days=min_age_days) if min_age_days is not None else None,
        detected_on_or_after=today - dt.timedelta(days=max_age_days) if max_age_days is not None else None,
        limit=limit,
        offset=offset,
    )
    summaries = [ExceptionSummary.model_validate(item) for item in items]
    return Page[ExceptionSummary](items=summaries, total=total, limit=limit, offset=offset)


@router.get("/{exception_id}", response_model=ExceptionDetail, responses={**NOT_FOUND, **PROBLEM_RESPONSES})
def read_exception(_caller: AnyRole, store: StoreDep, exception_id: ExceptionId) -> ExceptionDetail:
    """Return one exception with its evidence, source position, predictions, decisions and audit trail.

    The object can be sent back as it is to POST /v1/triage.
    """
    detail = exception_detail(store, exception_id)
    if detail is None:
        # The id stays out of the message: callers may have put a claim or member id there.
        raise HTTPException(404, detail=NOT_FOUND_DETAIL)
    return detail


def exception_detail(store: Store, exception_id: str) -> ExceptionDetail | None:
    """Build the public detail of a stored exception, or None when it does not exist."""
    detail: dict[str, Any] | None = store.get_exception(exception_id)
    if detail is None:
        return None
    evidence = detail.get("evidence") or {}
    for name in EVIDENCE_FIELDS:
        if name in evidence:
            detail[name] = evidence[name]
    detail["decisions"] = exception_decisions(store, exception_id)
    return ExceptionDetail.model_validate(detail)


@router.post(
    "/{exception_id}/decision",
    response_model=DecisionResponse,
    status_code=201,
    responses={**NOT_FOUND, **ALREADY_RESOLVED, **PROBLEM_RESPONSES},
)
def decide(
    request: Request, caller: ReviewerOrAdmin, store: StoreDep, exception_id: ExceptionId, body: DecisionRequest
) -> DecisionResponse:
    """Record a reviewer's accept or override of the latest prediction, and the outcome when resolved.

    Each decision becomes a training label (see `Store.labelled_exceptions`). With an outcome the
    exception becomes `resolved`, without one `reviewed`. A `reviewed` exception takes further
    decisions, and the latest is its label. A decision on a `resolved` exception is rejected with
    409 unless it sets `reopen`, which records a `reopened` audit event before the decision. An
    exception another reviewer has claimed is also rejected with 409; an admin key may decide it,
    and the audit event names the claim it overrode.
    """
    _check_labels(request, body)
    try:
        decision = record_decision(
            store,
            exception_id=exception_id,
            action=body.decision,
            decided_by=caller.name,
            type=body.type,
            priority=body.priority,
            resolution=body.resolution,
            outcome=body.outcome,
            amount_recovered=body.amount_recovered,
            reopen=body.reopen,
            override_claim=caller.role == ADMIN,
        )
    except AlreadyResolvedError:
        raise HTTPException(409, detail=ALREADY_RESOLVED_DETAIL) from None
    except ClaimedByAnotherError:
        raise HTTPException(409, detail=CLAIMED_BY_ANOTHER_DETAIL) from None
    except ValueError as error:
        raise HTTPException(422, detail=str(error)) from None
    if decision is None:
        raise HTTPException(404, detail=NOT_FOUND_DETAIL)
    status = "resolved" if body.outcome is not None else "reviewed"
    return DecisionResponse(**{key: decision[key] for key in DecisionResponse.model_fields if key in decision}, status=status)


NOT_RELEASABLE = {
    409: {"model": Problem, "description": "The exception is not claimed, or another reviewer has claimed it."}
}
NOT_CLAIMED_DETAIL = (
    "The exception is not claimed, so there is no claim to release. Claim work with POST /v1/queues/{name}/claim."
)


@router.post(
    "/{exception_id}/release",
    response_model=ReleaseResponse,
    responses={**NOT_FOUND, **NOT_RELEASABLE, **PROBLEM_RESPONSES},
)
def release(caller: ReviewerOrAdmin, store: StoreDep, exception_id: ExceptionId) -> ReleaseResponse:
    """Give a claimed exception back to its queue undecided, so the next claim may hand it to someone else.

    The reviewer who claimed it may release it; an admin key may release anyone's claim. The
    exception takes the status and queue of its latest prediction's route (`in_review` in
    `review`, or `auto_routed` in an `auto.*` queue), as if routed now, and gets a `released`
    audit event naming the claim's holder. An exception that is not claimed gets 409, as does another reviewer's claim.
    """
    try:
        released = release_claim(
            store, exception_id=exception_id, released_by=caller.name, override_claim=caller.role == ADMIN
        )
    except NotClaimedError:
        raise HTTPException(409, detail=NOT_CLAIMED_DETAIL) from None
    except ClaimedByAnotherError:
        raise HTTPException(409, detail=CLAIMED_BY_ANOTHER_DETAIL) from None
    if released is None:
        raise HTTPException(404, detail=NOT_FOUND_DETAIL)
    return ReleaseResponse(**released)


def _check_labels(request: Request, body: DecisionRequest) -> None:
    """Reject labels the loaded model does not know, so every decision is a usable training label."""
    model = request.app.state.model
    if model is None:
        return
    for head_name in ("type", "priority", "resolution"):
        label = getattr(body, head_name)
        head = model.heads.get(head_name)
        if label is not None and head is not None and label not in head.labels:
            raise HTTPException(
                422, detail=f"Invalid {head_name}: it is not one of the model's labels ({', '.join(head.labels)})."
            )
