"""RFC 9457 problem details: the one error body of every HTTP service, its OpenAPI description, and the
handlers that turn the service error tree (shared/errors.py) and the framework's own errors into it.

A problem is ``application/problem+json``::

    {"type": "urn:nof-live:problem:validation-failed", "title": "Validation failed", "status": 422,
     "detail": "the request was rejected; nothing was accepted", "instance": "/v1/observations",
     "errors": [{"index": 2, "field": "value", "reason": "..."}]}

``type`` names the kind of problem (one per row of ``KINDS``), ``title`` is its short fixed summary, ``detail``
says what happened to this request, ``instance`` is the request path. ``errors`` is present for validation
failures only: one entry per problem, with the batch ``index`` where one applies, the ``field`` (dotted; a
query or header parameter is ``query.<name>`` / ``header.<name>``) and the ``reason``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from shared.errors import (
    AuthError, BodyTooLarge, Conflict, FieldError, RetryLater, ServiceError, Unavailable, ValidationFailed,
)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:nof-live:problem:"

#: status -> (type suffix, title). One kind per status: a client can switch on ``type`` or on ``status``.
KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    422: ("validation-failed", "Validation failed"),
    429: ("too-many-requests", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}

#: What each status means, for the OpenAPI ``responses`` of every route (shared/api_docs.py).
DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read (an empty or unparseable body)",
    401: "No credentials, or unknown ones (WWW-Authenticate: Bearer)",
    403: "The credentials lack the scope this route needs",
    404: "Not found",
    409: "Conflicts with an earlier request",
    413: "The request body is over the size limit",
    422: "The request was read but rejected: ``errors`` names each field and reason",
    503: "A dependency is down; retry after Retry-After seconds",
}


class ProblemItem(BaseModel):
    index: int | None = Field(default=None, description="position in the request's list, where one applies")
    field: str = Field(description="the field, dotted; query.<name> or header.<name> for parameters")
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(description=f"the kind of problem, {TYPE_PREFIX}<kind>")
    title: str = Field(description="a short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what happened to this request")
    instance: str = Field(description="the request path")
    errors: list[ProblemItem] | None = Field(default=None, description="validation failures, one per problem")


def kind(status: int) -> tuple[str, str]:
    if status in KINDS:
        suffix, title = KINDS[status]
        return TYPE_PREFIX + suffix, title
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"HTTP {status}"
    return TYPE_PREFIX + phrase.lower().replace(" ", "-"), phrase


def body(status: int, detail: str, instance: str, errors: Iterable[FieldError] | None = None) -> dict[str, Any]:
    type_, title = kind(status)
    problem: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    if errors is not None:
        problem["errors"] = [_item(e) for e in errors]
    return problem


def _item(error: FieldError) -> dict[str, Any]:
    item: dict[str, Any] = {"field": error.field, "reason": error.reason}
    if error.index is not None:
        item["index"] = error.index
    return item


def response(status: int, detail: str, instance: str, errors: Iterable[FieldError] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(status, detail, instance, errors), status_code=status, headers=headers,
                        media_type=MEDIA_TYPE)


def encode(status: int, detail: str, instance: str) -> bytes:
    """A problem's bytes, for middleware that answers before the app (BodyLimit's 413)."""
    return json.dumps(body(status, detail, instance)).encode()


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    """pydantic's errors as (field, reason, index): ("body", "observations", 2, "value") is field "value" at
    index 2; ("body", "observations") is "observations"; ("query", "limit") is "query.limit". List positions
    are ints in pydantic's loc; a digit-only key of an object is a str, so it stays a field name. Rejected
    input is never echoed back (a NaN cannot be encoded, an oversized value would be sent back whole)."""
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc is ("body", character offset), not a field and an index
            where = err.get("loc", ("body", "?"))[-1]
            why = (err.get("ctx") or {}).get("error", "JSON decode error")
            errors.append(FieldError("body", f"not valid JSON: {why} (at character {where})"))
            continue
        loc = [p for p in err.get("loc", ()) if p != "body"]
        at = next((i for i, p in enumerate(loc) if isinstance(p, int)), None)
        named = loc if at is None else (loc[at + 1:] or loc[:at])
        errors.append(FieldError(".".join(str(p) for p in named) or "body", err.get("msg", "invalid"),
                                 None if at is None else loc[at]))
    return errors


def instance(scope: dict[str, Any]) -> str:
    """The request path as sent (still percent-encoded, so it is a URI reference)."""
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else scope.get("path", "/")


#: Seconds a client is asked to wait after a dependency did not answer.
DEPENDENCY_RETRY_AFTER_S = 5


def install(app: FastAPI, unanswered: tuple[type[Exception], ...] = ()) -> None:
    """The one place errors become HTTP answers: ServiceError subclasses, request validation, the
    framework's own HTTP errors (unknown route 404, wrong method 405, a body it cannot parse 400), a
    dependency's ``unanswered`` errors (503 with Retry-After) and anything else (500, as a problem too)."""
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RetryLater):
            headers["Retry-After"] = str(exc.retry_after_s)
        if isinstance(exc, AuthError) and exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        errors = exc.errors if isinstance(exc, (ValidationFailed, Conflict)) and exc.errors else None
        return response(exc.status, exc.message, instance(request.scope), errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return response(422, "the request was rejected; nothing was accepted", instance(request.scope), field_errors(exc))

    async def _dependency_down(request: Request, exc: Exception) -> JSONResponse:
        return response(503, f"a service this one depends on did not answer ({type(exc).__name__}); try again",
                        instance(request.scope), headers={"Retry-After": str(DEPENDENCY_RETRY_AFTER_S)})

    for error in unanswered:
        app.add_exception_handler(error, _dependency_down)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        # Starlette raises the exception again after this answer, so the server logs its traceback.
        return response(500, "an internal error; it was logged", instance(request.scope))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        cause = exc.__cause__
        if isinstance(cause, BodyTooLarge):  # FastAPI read the body for a route and met BodyLimit's stop
            return response(413, cause.message, instance(request.scope))
        errors = None
        if exc.status_code == 400 and cause is not None:  # FastAPI could not decode the body
            why = "nested too deeply" if isinstance(cause, RecursionError) else str(cause)[:200]
            errors = [FieldError("body", f"{exc.detail}: {why}")]
        return response(exc.status_code, str(exc.detail), instance(request.scope), errors, exc.headers)
