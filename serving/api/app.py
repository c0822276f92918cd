"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serving.api.jobs import JobRunner
from serving.api.metrics import ApiMetrics
from serving.api.middleware import BodyMiddleware, RequestMiddleware
from serving.api.problems import install_problem_handlers
from serving.api.registry import ModelRegistry
from serving.api.routes import documents, exceptions, health, kpis, predictions, queues, triage
from serving.api.security import ApiKeyCache
from serving.model import TriageModel
from serving.routing import RoutingPolicy
from serving.settings import Settings
from workflow.errors import ModelError
from workflow.store import DEFAULT_STORE_URL, Store, open_store
from workflow.store.governance import count_active_api_keys

__all__ = ["STORE_URL_VARIABLE", "create_app"]

logger = logging.getLogger(__name__)

STORE_URL_VARIABLE = "TRIAGE_STORE_URL"

DESCRIPTION = """
Triage of exceptions found in claims and remittances: the model's type, priority and resolution
with calibrated probabilities and reasons, the route (automatic queue or review), work queues for
reviewers, decisions that become training labels, and the audit trail.

Every `/v1` endpoint needs an API key in the `X-API-Key` header; `/healthz`, `/readyz` and
`/metrics` do not. Errors are RFC 9457 problem details (`application/problem+json`).
"""


def create_app(
    store_url: str | None = None,
    store: Store | None = None,
    *,
    model: TriageModel | None = None,
    settings: Settings | None = None,
    load_model: bool = True,
) -> FastAPI:
    """Build the API on ``store``, or on a store opened (and migrated) at ``store_url``.

    Without either, the URL comes from the TRIAGE_STORE_URL environment variable, else
    ``sqlite:///triage.db``. A store opened here is closed when the application shuts down;
    a store passed in stays open for its owner to close. The model is ``model``, else the bundle
    at ``settings.model_path`` when ``load_model`` is true; without one the API serves everything
    but triage, re-runs and uploads, and ``/readyz`` reports 503.
    """
    if store is not None and store_url is not None:
        raise ValueError("pass either store_url or store to create_app, not both")
    settings = settings or Settings()

    owns_store = store is None
    if store is None:
        store = open_store(store_url or os.environ.get(STORE_URL_VARIABLE, DEFAULT_STORE_URL))
    active_store = store
    active_model = model
    if active_model is None and load_model:
        active_model = _load_model(settings)
    if active_model is not None:
        active_model.prepare_explainers()

    policy = RoutingPolicy(qa_sample_rate=settings.qa_sample_rate, write_off_review_above=settings.write_off_review_above)
    jobs = JobRunner(active_store, active_model, policy, settings.job_workers)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("API started on store %s", active_store.url)
        _warn_without_keys(active_store)
        active_store.start_wal_checkpoints()
        yield
        jobs.shutdown()
        active_store.stop_wal_checkpoints()
        if owns_store:
            active_store.close()
        logger.info("API stopped")

    app = FastAPI(
        title="Claims exception triage",
        summary="Exceptions found in claims and remittances, with the model's type, route and reasons.",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
    )
    metrics = ApiMetrics()
    if active_model is not None:
        metrics.set_model(active_model.name, active_model.version)

    app.state.store = active_store
    app.state.settings = settings
    app.state.model = active_model
    app.state.policy = policy
    app.state.registry = ModelRegistry(active_model, settings.model_registry_paths)
    app.state.key_cache = ApiKeyCache(active_store, settings.api_key_cache_seconds)
    app.state.metrics = metrics
    app.state.jobs = jobs

    install_problem_handlers(app)
    for module in (health, triage, exceptions, predictions, queues, documents, kpis):
        app.include_router(module.router)

    # Added last, so it runs first: every request, rejected ones included, gets an id and a metric.
    app.add_middleware(
        BodyMiddleware, store=active_store,
        max_json_bytes=settings.max_json_bytes, max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(RequestMiddleware, metrics=metrics)
    return app


def _load_model(settings: Settings) -> TriageModel | None:
    try:
        model = TriageModel.load(settings.model_path)
    except ModelError as error:
        logger.error("the API starts without a model, so triage is unavailable: %s", error)
        return None
    # By now the process contains some 220,000 long-lived objects (LightGBM, SHAP, pandas and the
    # bundle). Every full collection walks them all, about 0.17 s, and a batch of 1,000 creates
    # enough objects to set one off every other call. The collector skips frozen objects, and
    # reference counting still frees them. The server process is the one place to do this.
    gc.freeze()
    return model


def _warn_without_keys(store: Store) -> None:
    if count_active_api_keys(store) == 0:
        logger.warning(
            "no API key exists, so every /v1 endpoint answers 401. Create one with: "
            "triage apikeys create --role admin --name NAME --db %s", store.url,
        )
