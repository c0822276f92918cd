"""API keys and roles: who may call which endpoint.

A key arrives in the ``X-API-Key`` header (or as ``Authorization: Bearer <key>``). A missing,
unknown or revoked key gets 401; a valid key whose role may not call the endpoint gets 403.
Checked keys are cached for ``api_key_cache_seconds``, so a revoked key stops working within that
time and a request does not pay a database lookup for its key.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from workflow.store import Store
from workflow.store.governance import API_ROLES, ApiKey, find_api_key

__all__ = [
    "ADMIN",
    "ALL_ROLES",
    "REVIEWER",
    "WORKFLOW",
    "ApiKeyCache",
    "api_key_header",
    "require_roles",
]

logger = logging.getLogger(__name__)

WORKFLOW, REVIEWER, ADMIN = API_ROLES
ALL_ROLES = (WORKFLOW, REVIEWER, ADMIN)

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key made with `triage apikeys create --role ROLE --name NAME`.",
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
# Bound the cache so a flood of random keys cannot grow it without limit.
MAX_CACHED_KEYS = 10_000


class ApiKeyCache:
    """Results of recent key checks, keyed by a SHA-256 of the key so no secret sits in memory twice."""

    def __init__(self, store: Store, ttl_seconds: float) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[ApiKey | None, float]] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> tuple[bool, ApiKey | None]:
        """Return (True, the cached key or None) while ``key``'s entry is fresh, else (False, None); never queries."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        with self._lock:
            cached = self._entries.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return True, cached[0]
        return False, None

    def lookup(self, key: str) -> ApiKey | None:
        """Return the active key ``key`` is, or None; from the cache while the entry is fresh."""
        hit, found = self.cached(key)
        if hit:
            return found

        digest = hashlib.sha256(key.encode()).hexdigest()
        now = time.monotonic()
        found = find_api_key(self._store, key)
        if self._ttl > 0:
            with self._lock:
                if len(self._entries) >= MAX_CACHED_KEYS:
                    self._entries.clear()
                self._entries[digest] = (found, now + self._ttl)
        return found

    def clear(self) -> None:
        """Forget every cached check, so the next request looks its key up again."""
        with self._lock:
            self._entries.clear()


def _presented_key(request: Request, header_key: str | None) -> str | None:
    if header_key:
        return header_key
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def require_roles(*roles: str) -> Callable[..., ApiKey]:
    """Build a dependency that returns the caller's key when its role is one of ``roles``."""
    allowed = frozenset(roles)

    async def check_key(
        request: Request, header_key: Annotated[str | None, Security(api_key_header)] = None
    ) -> ApiKey:
        key = _presented_key(request, header_key)
        if key is None:
            raise HTTPException(401, detail="An API key is required: send it in the X-API-Key header.",
                                headers=UNAUTHORIZED_HEADERS)
        # A cached key is checked on the event loop; only a miss, which queries the store, goes to
        # a worker thread. A synchronous dependency would pay a thread hand-off on every request.
        cache = request.app.state.key_cache
        hit, principal = cache.cached(key)
        if not hit:
            principal = await run_in_threadpool(cache.lookup, key)
        if principal is None:
            raise HTTPException(401, detail="The API key is not valid or was revoked.", headers=UNAUTHORIZED_HEADERS)
        request.state.principal = principal
        if principal.role not in allowed:
            raise HTTPException(
                403, detail=f"The role '{principal.role}' may not call this endpoint; it needs one of: "
                f"{', '.join(sorted(allowed))}."
            )
        return principal

    return check_key


AnyRole = Annotated[ApiKey, Depends(require_roles(*ALL_ROLES))]
WorkflowOrAdmin = Annotated[ApiKey, Depends(require_roles(WORKFLOW, ADMIN))]
ReviewerOrAdmin = Annotated[ApiKey, Depends(require_roles(REVIEWER, ADMIN))]
AdminOnly = Annotated[ApiKey, Depends(require_roles(ADMIN))]
