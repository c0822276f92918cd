"""ASGI middleware: request ids, metrics and access logs, body size limits, and idempotent POSTs.

Both classes are plain ASGI middleware rather than Starlette's BaseHTTPMiddleware, so the body a
route reads is exactly the bytes counted and hashed here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool

from serving.api.metrics import ApiMetrics
from workflow.store import Store
from workflow.store.governance import idempotency_abandon, idempotency_begin, idempotency_complete

__all__ = ["BodyMiddleware", "RequestMiddleware"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID_HEADER = "x-request-id"
# A caller's request id is kept only when it is short and plain, because it is logged and stored.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
IDEMPOTENCY_HEADER = "idempotency-key"
VALID_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PROBLEM_MEDIA_TYPE = "application/problem+json"


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def _route_template(scope: Scope) -> str:
    """Return the path template of the route that served the request, or ``unmatched``.

    FastAPI's own routes record themselves in the scope; Starlette routes such as ``/docs`` and
    ``/openapi.json`` do not, so a path with no parameters is matched against the app's routes.
    A path with parameters is never used as it is, because it may hold an id a caller put there.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        return template
    path = scope.get("path", "")
    app = scope.get("app")
    for candidate in getattr(app, "routes", ()):
        candidate_path = getattr(candidate, "path", None)
        if candidate_path == path and "{" not in candidate_path:
            return candidate_path
    return "unmatched"


async def _send_problem(send: Send, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    raw_headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw_headers.extend((k.encode(), v.encode()) for k, v in (headers or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class RequestMiddleware:
    """Give every request an id (``X-Request-ID``), count it in the metrics and log one access line.

    The log line names the route template and the request id, never the path, because a path may
    carry a claim or member id a caller put there.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        offered = _header(scope, REQUEST_ID_HEADER)
        request_id = offered if offered and VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = _route_template(scope)
            self.metrics.observe_request(scope["method"], template, status_holder["status"], elapsed)
            logger.info(
                "request %s %s %s -> %d in %.1f ms",
                request_id, scope["method"], template, status_holder["status"], elapsed * 1000.0,
            )


class BodyMiddleware:
    """Reject request bodies above the size limits (413) and make POSTs with ``Idempotency-Key`` safe to repeat.

    The first request with a key reserves it; its response is stored when it succeeds (2xx) and
    the key is released otherwise, so a failed request can be retried. A repeat with the same
    key and the same body gets the stored response with ``Idempotent-Replayed: true``; a repeat
    with another body gets 422, and a repeat while the first still runs gets 409.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: Store,
        max_json_bytes: int,
        max_upload_bytes: int,
        upload_paths: tuple[str, ...] = ("/v1/documents",),
    ) -> None:
        self.app = app
        self.store = store
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return

        limit = self.max_upload_bytes if scope["path"] in self.upload_paths else self.max_json_bytes
        body = await self._read_body(scope, receive, limit)
        if body is None:
            await _send_problem(
                send, 413, "Content Too Large",
                f"The request body is larger than the limit of {limit} bytes: send fewer or smaller items.",
            )
            return

        replay = _replaying_receive(body, receive)
        idempotency_key = _header(scope, IDEMPOTENCY_HEADER)
        if idempotency_key is None or scope["method"] != "POST":
            await self.app(scope, replay, send)
            return
        if not VALID_IDEMPOTENCY_KEY.match(idempotency_key):
            await _send_problem(
                send, 422, "Unprocessable Content",
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            )
            return
        await self._idempotent(scope, replay, send, body=body, idempotency_key=idempotency_key)

    async def _read_body(self, scope: Scope, receive: Receive, limit: int) -> bytes | None:
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _idempotent(self, scope: Scope, receive: Receive, send: Send, *, body: bytes, idempotency_key: str) -> None:
        # The caller's API key is part of the record's key, so two callers never see each other's responses.
        caller = _header(scope, "x-api-key") or _header(scope, "authorization") or ""
        key_hash = hashlib.sha256(f"{caller}\n{idempotency_key}".encode()).hexdigest()
        request_hash = hashlib.sha256(body).hexdigest()
        record = await run_in_threadpool(
            idempotency_begin, self.store, key_hash=key_hash, request_hash=request_hash,
            method=scope["method"], path=scope["path"],
        )
        if record.state == "mismatch":
            await _send_problem(
                send, 422, "Unprocessable Content",
                "This Idempotency-Key was used with a different request body or endpoint: use a new key.",
            )
            return
        if record.state == "running":
            await _send_problem(
                send, 409, "Conflict",
                "A request with this Idempotency-Key is still running: retry after it finishes.",
                headers={"Retry-After": "1"},
            )
            return
        if record.state == "done":
            await _replay_response(send, record.status_code or 200, record.response_body or "", record.media_type)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception:
            await run_in_threadpool(idempotency_abandon, self.store, key_hash=key_hash)
            raise

        status = captured["status"]
        if 200 <= status < 300:
            media_type = next(
                (v.decode("latin-1") for k, v in captured["headers"] if k.lower() == b"content-type"), None
            )
            await run_in_threadpool(
                idempotency_complete, self.store, key_hash=key_hash, status_code=status,
                response_body=b"".join(captured["body"]).decode("utf-8"), media_type=media_type,
            )
        else:
            await run_in_threadpool(idempotency_abandon, self.store, key_hash=key_hash)


def _replaying_receive(body: bytes, original: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        # After the buffered body, later reads wait on the real connection (for a disconnect).
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _replay_response(send: Send, status: int, body: str, media_type: str | None) -> None:
    encoded = body.encode("utf-8")
    headers = [
        (b"content-type", (media_type or "application/json").encode()),
        (b"content-length", str(len(encoded)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
