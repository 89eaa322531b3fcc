"""The publisher's errors, grouped by how they are handled; ``install`` maps them to HTTP once.

PublisherError
├── BadRequest        the caller's input is wrong: 400/422 with a clear message
│   └── TargetRefused a webhook URL points at a private or loopback address (422)
├── NotFound          unknown league, trust or subscription: 404
├── Unauthorized      missing or wrong admin token: 401
├── TooManyRequests   a client is over a connection cap (SSE): 429 with Retry-After
├── Unavailable       a dependency (the subscriptions topic, Redis) did not answer: 503 with Retry-After
└── ConfigurationError unsafe or missing settings: the service refuses to start
Transient delivery failures are not exceptions here: the dispatcher retries them with backoff.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.http import body_limit_of


def too_large(limit: int) -> dict[str, str]:
    """The 413 body, in the publisher's error format."""
    return {"detail": f"request body exceeds {limit} bytes"}


class PublisherError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(PublisherError):
    status = 400


class TargetRefused(BadRequest):
    status = 422


class NotFound(PublisherError):
    status = 404


class Unauthorized(PublisherError):
    status = 401


class TooManyRequests(PublisherError):
    status = 429


class Unavailable(PublisherError):
    status = 503


class ConfigurationError(PublisherError):
    pass


def install(app: FastAPI) -> None:
    @app.exception_handler(PublisherError)
    async def _handle(request: Request, exc: PublisherError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        if isinstance(exc, (Unavailable, TooManyRequests)):
            headers = {"Retry-After": "5"}
        return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        limit = body_limit_of(exc)
        if limit is not None:  # a streamed body passed the limit while FastAPI read it
            return JSONResponse(too_large(limit), status_code=413)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer echoes every rejected input back: a NaN or Infinity in the body then
        # cannot be encoded as JSON (a 500), and an oversized value would be sent back whole. Keep where
        # (loc: body, query, header or path, then the field) and why (msg, type).
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid"), "type": e.get("type", "value_error")}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)
