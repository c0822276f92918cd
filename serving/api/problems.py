"""RFC 9457 problem details for every error response.

Messages never repeat request values: a path or query value may be a claim or member id.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.api.schemas import FieldError, Problem
from workflow.errors import StoreError

__all__ = ["PROBLEM_MEDIA_TYPE", "install_problem_handlers", "problem_response"]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
BODY_UNION_TAGS = frozenset({"exception", "batch"})
# Reason phrases RFC 9110 renamed. Python 3.11's http.HTTPStatus still gives the older ones, such as
# "Unprocessable Entity", which the middleware's problems do not use.
RFC_9110_PHRASES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem details response; the title is the standard reason phrase of ``status``."""
    problem = Problem(title=_reason_phrase(status), status=status, detail=detail, errors=errors)
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _reason_phrase(status: int) -> str:
    if status in RFC_9110_PHRASES:
        return RFC_9110_PHRASES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_problem_handlers(app: FastAPI) -> None:
    """Register handlers that return problem details for HTTP, validation, store and unexpected errors."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(_request: Request, exc: Any) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _reason_phrase(exc.status_code)
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Any) -> JSONResponse:
    json_error = next((error for error in exc.errors() if error.get("type") == "json_invalid"), None)
    if json_error is not None:
        return _invalid_json(json_error)
    body_error = _whole_body_error(exc.errors(), request.headers.get("content-type"))
    if body_error is not None:
        return problem_response(422, body_error, errors=[FieldError(field="body", location="body", message=body_error)])
    errors = [_field_error(error) for error in exc.errors()]
    if errors:
        first = errors[0]
        detail = f"Invalid {first.location} parameter '{first.field}': {first.message}."
    else:
        detail = "The request is invalid."
    return problem_response(422, detail, errors=errors)


def _whole_body_error(errors: list[dict[str, Any]], content_type: str | None) -> str | None:
    """Explain an error about the body as a whole: missing, sent as another media type, or not an object.

    FastAPI parses a body as JSON only when its Content-Type is JSON. It reports a missing body as
    a missing field called ``body``. Both messages are replaced by what the caller should change.
    """
    location = tuple(errors[0].get("loc", ())) if len(errors) == 1 else ()
    # POST /v1/triage names the branch of its body union after "body".
    if location[:1] != ("body",) or location[1:] not in ((), *((tag,) for tag in BODY_UNION_TAGS)):
        return None
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if errors[0].get("type") == "missing":
        return "The request body is empty. Send one JSON object with Content-Type: application/json."
    if media_type != "application/json" and not media_type.endswith("+json"):
        # Without a JSON Content-Type FastAPI hands the body on as bytes, unparsed.
        return ("The request body was not read as JSON because the Content-Type header is missing or is not "
                "application/json. Send it with Content-Type: application/json.")
    if errors[0].get("type") in ("model_attributes_type", "dict_type", "model_type"):
        return "The request body must be one JSON object; it is another JSON value (an array, string, number, boolean or null)."
    return None


def _invalid_json(error: dict[str, Any]) -> JSONResponse:
    """Build the 422 for a body that is not valid JSON, with ``body`` as the field.

    FastAPI reports the character offset in the place of a field name, so it is moved into the message.
    """
    location = error.get("loc", ())
    offset = location[1] if len(location) > 1 else None
    # ``ctx.error`` is the json module's fixed message, such as "Expecting value", which never quotes the body.
    reason = (error.get("ctx") or {}).get("error") or "JSON decode error"
    where = f" at character {offset}, counting from 0" if isinstance(offset, int) else ""
    detail = f"The request body is not valid JSON{where}: {reason}. Send one JSON object encoded in UTF-8."
    field_error = FieldError(field="body", location="body", message=f"not valid JSON{where}: {reason}")
    return problem_response(422, detail, errors=[field_error])


def _field_error(error: dict[str, Any]) -> FieldError:
    # ``loc`` is ("query", "limit") or ("path", "exception_id"); pydantic's "input" key is dropped
    # on purpose, because it is the rejected value.
    location, *path = [str(part) for part in error.get("loc", ())] or ["request"]
    if location == "body" and path and path[0] in BODY_UNION_TAGS:
        # POST /v1/triage takes one exception or a batch; the tag of the branch is no field name.
        path = path[1:]
    message = error.get("msg", "invalid value")
    return FieldError(field=".".join(path) or location, location=location, message=message)


async def _store_error(request: Request, exc: Any) -> JSONResponse:
    logger.error("store failed on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(503, "The database is unavailable. Retry later, or check the server log.")


async def _unexpected_error(request: Request, exc: Any) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "An unexpected error occurred. Check the server log.")
