"""POST /v1/triage: predict, explain and route one exception or a batch, and store every prediction."""

from __future__ import annotations

import functools
import logging
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from anyio import CapacityLimiter, Lock, to_thread
from anyio.lowlevel import RunVar
from fastapi import APIRouter, Body, Request, Response

from serving.api.deps import get_model, get_request_id, get_store
from serving.api.metrics import ApiMetrics
from serving.api.requests import ExceptionIn, TriageBatch, TriageBody
from serving.api.schemas import HeadResult, ModelRef, Problem, RouteOut, TriageResponse, TriageResult
from serving.api.security import WorkflowOrAdmin
from serving.model import HeadPrediction, TriageModel
from serving.routing import RoutingPolicy
from serving.triage import TriageOutcome, triage_batch
from workflow.records import ExceptionRecord, PredictionRecord
from workflow.store import Store
from workflow.store.governance import ApiPredictionWrite, PredictionContext, save_api_prediction_writes

__all__ = ["head_result", "model_ref", "router", "triage_result"]

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["triage"])

# Threads that predict and render at once: one, because the work holds the GIL nearly throughout.
COMPUTE_THREADS = 1
# Responses with at most this many results are serialized on the event loop.
INLINE_RENDER_RESULTS = 8

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
async def triage(
    request: Request,
    caller: WorkflowOrAdmin,
    body: Annotated[TriageBody, Body(description="One exception, or {\"exceptions\": [...]} with up to 1,000.")],
) -> Response:
    """Predict type, priority and resolution, explain each predicted class, route, and store the predictions.

    An exception that is not in the store yet is stored from the request body (with a `created`
    audit event naming the caller), so every prediction has its exception. A stored exception is
    left as it is and gets the new prediction.
    """
    store = get_store(request)
    model = get_model(request)
    request_id = get_request_id(request)
    exceptions: Sequence[ExceptionIn] = body.exceptions if isinstance(body, TriageBatch) else [body]
    actor = f"api:{caller.name}"
    stages = _stages(request.app, store)

    # The work runs in worker threads, so the event loop keeps reading requests. Prediction admits
    # one request at a time in arrival order, because more threads would only take turns at the
    # GIL. Writes go through one writer: SQLite writers that collide wait on the database lock
    # with growing sleeps, and requests that queue for the writer share a commit.
    predict = functools.partial(
        _predict, exceptions, model, request.app.state.policy, request_id=request_id, actor=actor
    )
    if stages.idle():
        # Nothing else predicts or writes, so one trip to a worker thread does both, and the
        # request pays one hand-off between threads instead of two.
        prepared, created = await stages.writer.predict_and_save(predict, limiter=stages.compute)
    else:
        prepared = await to_thread.run_sync(predict, limiter=stages.compute)
        created = await stages.writer.save(prepared.write())
    _count_routes(request.app.state.metrics, prepared.outcomes)
    logger.info("request %s triaged %d exceptions (%d new)", request_id, len(prepared.outcomes), len(created))
    render = functools.partial(_render, prepared.outcomes, model, request_id=request_id, created=set(created))
    # A few results serialize in less time than a trip to a worker thread takes.
    if len(prepared.outcomes) <= INLINE_RENDER_RESULTS:
        content = render()
    else:
        content = await to_thread.run_sync(render, limiter=stages.compute)
    return Response(content=content, media_type="application/json")


class _PendingWrite:
    __slots__ = ("done", "error", "result", "write")

    def __init__(self, write: ApiPredictionWrite) -> None:
        self.write = write
        self.done = False
        self.result: list[str] = []
        self.error: BaseException | None = None


class GroupWriter:
    """Store the writes of concurrent requests together, one transaction and one commit per group.

    A request appends its write and waits for the lock. The request that gets the lock writes
    every pending write in one transaction in a worker thread, so requests that arrived during
    the previous commit share the next one. When a group fails, each of its writes is retried
    alone, so a request gets its own result or its own error, as if it had written by itself.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[_PendingWrite] = []
        self.lock = Lock()

    async def save(self, write: ApiPredictionWrite) -> list[str]:
        """Store ``write`` and return the ids of the exceptions it inserted, or raise its own error."""
        entry = _PendingWrite(write)
        self.pending.append(entry)
        try:
            async with self.lock:
                if not entry.done:
                    group, self.pending = self.pending, []
                    await to_thread.run_sync(self._write_group, group)
        except BaseException:
            # A request cancelled while it waits takes its write back, so nothing is stored for it.
            if entry in self.pending:
                self.pending.remove(entry)
            raise
        if entry.error is not None:
            raise entry.error
        return entry.result

    @property
    def idle(self) -> bool:
        """True while no write is pending or being written."""
        return not self.pending and not self.lock.locked()

    async def predict_and_save(
        self, predict: Callable[[], _Prepared], *, limiter: CapacityLimiter
    ) -> tuple[_Prepared, list[str]]:
        """Run ``predict`` and store its write in one worker thread, holding the writer meanwhile.

        Writes that queue behind it form the next group, as they would behind any write.
        """
        async with self.lock:
            return await to_thread.run_sync(self._predict_then_write, predict, limiter=limiter)

    def _predict_then_write(self, predict: Callable[[], _Prepared]) -> tuple[_Prepared, list[str]]:
        prepared = predict()
        entry = _PendingWrite(prepared.write())
        self._write_group([entry])
        if entry.error is not None:
            raise entry.error
        return prepared, entry.result

    def _write_group(self, group: list[_PendingWrite]) -> None:
        try:
            results = save_api_prediction_writes(self.store, [entry.write for entry in group])
        except Exception as error:
            if len(group) == 1:
                _finish(group[0], error=error)
                return
            logger.warning("a group of %d prediction writes failed, so each is retried alone: %s", len(group), error)
            for entry in group:
                try:
                    _finish(entry, result=save_api_prediction_writes(self.store, [entry.write])[0])
                except Exception as single_error:
                    _finish(entry, error=single_error)
            return
        for entry, result in zip(group, results, strict=True):
            _finish(entry, result=result)


def _finish(entry: _PendingWrite, *, result: list[str] | None = None, error: BaseException | None = None) -> None:
    entry.result = result or []
    entry.error = error
    entry.done = True


@dataclass(frozen=True)
class _Stages:
    compute: CapacityLimiter
    writer: GroupWriter

    def idle(self) -> bool:
        """True when no request is predicting and the writer has nothing to do."""
        return self.compute.borrowed_tokens == 0 and self.writer.idle


# Limiters belong to one event loop, and tests run one application in several loops in turn, so
# they are kept per loop and per application.
_STAGES: RunVar[weakref.WeakKeyDictionary[Any, _Stages]] = RunVar("triage_stages")


def _stages(app: Any, store: Store) -> _Stages:
    try:
        by_app = _STAGES.get()
    except LookupError:
        by_app = weakref.WeakKeyDictionary()
        _STAGES.set(by_app)
    stages = by_app.get(app)
    if stages is None:
        stages = _Stages(compute=CapacityLimiter(COMPUTE_THREADS), writer=GroupWriter(store))
        by_app[app] = stages
    return stages


@dataclass(frozen=True)
class _Prepared:
    outcomes: list[TriageOutcome]
    predictions: list[PredictionRecord]
    contexts: list[PredictionContext]
    new_exceptions: list[ExceptionRecord]
    actor: str

    def write(self) -> ApiPredictionWrite:
        """Return what the store keeps of this request: predictions, contexts, new exceptions."""
        return ApiPredictionWrite(
            predictions=self.predictions, contexts=self.contexts, new_exceptions=self.new_exceptions, actor=self.actor,
        )


def _predict(
    exceptions: Sequence[ExceptionIn], model: TriageModel, policy: RoutingPolicy, *, request_id: str, actor: str
) -> _Prepared:
    payloads = [exception.to_payload() for exception in exceptions]
    # NOTE: history features here count the bundle's snapshot plus the request's batch; `triage run`
    # also counts the stored exceptions since the bundle was built (serving.run.store_history).
    outcomes = triage_batch(payloads, model, policy=policy)
    return _Prepared(
        outcomes=outcomes,
        predictions=[outcome.prediction for outcome in outcomes],
        contexts=[_context(outcome, request_id=request_id, actor=actor, model=model) for outcome in outcomes],
        new_exceptions=[exception.to_record() for exception in exceptions],
        actor=actor,
    )


def _count_routes(metrics: ApiMetrics, outcomes: Sequence[TriageOutcome]) -> None:
    counts = Counter(outcome.decision.route for outcome in outcomes)
    for route in ("auto", "review"):
        if counts[route]:
            metrics.count_predictions(route, counts[route])


def _render(outcomes: Sequence[TriageOutcome], model: TriageModel, *, request_id: str, created: set[str]) -> bytes:
    """Serialize the response body: the JSON that ``TriageResponse`` would give for the same results.

    The dicts are built here to the schema's shape and encoded by orjson without a pydantic pass,
    which cost about 0.1 s for a batch of 1,000 (validation, then serialization). A test compares
    this body with ``TriageResponse.model_dump_json`` on the same outcomes.
    """
    descriptions = feature_descriptions(model)
    reference = _model_ref_dict(model)
    # A batch may name one new exception twice; only its first result stored it.
    not_yet_reported = set(created)
    results = []
    for outcome in outcomes:
        exception_id = outcome.prediction.exception_id
        results.append(_result_dict(outcome, descriptions, reference, exception_created=exception_id in not_yet_reported))
        not_yet_reported.discard(exception_id)
    return orjson.dumps({"request_id": request_id, "model": reference, "results": results})


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
    return ModelRef.model_validate(_model_ref_dict(model))


def _model_ref_dict(model: TriageModel) -> dict[str, Any]:
    return {"name": model.name, "version": model.version, "mlflow_run_id": model.run_id}


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
    return HeadResult.model_validate(_head_dict(head, descriptions))


def _head_dict(head: HeadPrediction, descriptions: dict[str, str]) -> dict[str, Any]:
    return {
        "label": head.label,
        "confidence": round(head.confidence, 6),
        "threshold": round(head.threshold, 6),
        "probabilities": head.probabilities,
        "contributions": [
            {
                "feature": item.feature,
                "description": descriptions.get(item.feature, item.feature),
                "value": item.value,
                "contribution": item.contribution,
            }
            for item in head.explanation
        ],
    }


def triage_result(outcome: TriageOutcome, model: TriageModel, *, exception_created: bool) -> TriageResult:
    return TriageResult.model_validate(
        _result_dict(outcome, feature_descriptions(model), _model_ref_dict(model), exception_created=exception_created)
    )


def _result_dict(
    outcome: TriageOutcome, descriptions: dict[str, str], reference: dict[str, Any], *, exception_created: bool
) -> dict[str, Any]:
    heads = outcome.heads
    decision = outcome.decision
    return {
        "prediction_id": outcome.prediction.prediction_id,
        "exception_id": outcome.prediction.exception_id,
        "type": _head_dict(heads["type"], descriptions),
        "priority": _head_dict(heads["priority"], descriptions) if "priority" in heads else None,
        "resolution": _head_dict(heads["resolution"], descriptions) if "resolution" in heads else None,
        "route": {"route": decision.route, "queue": decision.queue, "reason": decision.reason,
                  "qa_sample": decision.qa_sample},
        "model": reference,
        "latency_ms": float(outcome.prediction.latency_ms or 0.0),
        "exception_created": exception_created,
    }
