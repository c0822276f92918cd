"""The FastAPI application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serving.api.problems import install_problem_handlers
from serving.api.routes import exceptions, health
from workflow.store import DEFAULT_STORE_URL, Store, open_store

__all__ = ["STORE_URL_VARIABLE", "create_app"]

logger = logging.getLogger(__name__)

STORE_URL_VARIABLE = "TRIAGE_STORE_URL"


def create_app(store_url: str | None = None, store: Store | None = None) -> FastAPI:
    """Build the API on ``store``, or on a store opened (and migrated) at ``store_url``.

    Without either, the URL comes from the TRIAGE_STORE_URL environment variable, else
    ``sqlite:///triage.db``. A store opened here is closed when the application shuts down;
    a store passed in stays open for its owner to close.
    """
    if store is not None and store_url is not None:
        raise ValueError("pass either store_url or store to create_app, not both")

    owns_store = store is None
    if store is None:
        store = open_store(store_url or os.environ.get(STORE_URL_VARIABLE, DEFAULT_STORE_URL))
    active_store = store

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("API started on store %s", active_store.url)
        yield
        if owns_store:
            active_store.close()
        logger.info("API stopped")

    app = FastAPI(
        title="Claims exception triage",
        summary="Exceptions found in claims and remittances, with the model's type, route and reasons.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.store = active_store
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(exceptions.router)
    return app
