"""Routes every HTTP service exposes: health with named dependency checks, and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from shared.telemetry import metrics_payload

Check = Callable[[], Awaitable[bool]]


def operational_router(service: str, checks: Mapping[str, Check]) -> APIRouter:
    """`/healthz` runs each dependency check (503 when one is down); `/metrics` is the Prometheus exposition."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness and dependency health")
    async def healthz() -> JSONResponse:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = "ok" if await check() else "down"
            except Exception as exc:  # a health probe reports, it never raises
                results[name] = f"down: {type(exc).__name__}"
        healthy = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"service": service, "status": "ok" if healthy else "degraded", "checks": results},
            status_code=200 if healthy else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = metrics_payload()
        return Response(body, media_type=content_type)

    return router


def install_error_handlers(app) -> None:  # noqa: ANN001 - a FastAPI app
    """The one place errors become HTTP answers: ServiceError subclasses, request validation, and the
    framework's own HTTP errors (unknown route 404, wrong method 405, a body it cannot parse 400)."""
    from http import HTTPStatus

    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    from shared.errors import ServiceError, Unavailable, ValidationFailed

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "message": exc.message}
        headers = {}
        if isinstance(exc, ValidationFailed):
            body["errors"] = [e.as_dict() for e in exc.errors]
        if isinstance(exc, Unavailable):
            headers["Retry-After"] = str(exc.retry_after_s)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":  # loc is ("body", character offset), not a field and an index
                where = err.get("loc", ("body", "?"))[-1]
                why = (err.get("ctx") or {}).get("error", "JSON decode error")
                errors.append({"field": "body", "reason": f"not valid JSON: {why} (at character {where})"})
                continue
            # ("body", "observations", 2, "value") -> field "value" at index 2; ("body", "observations") ->
            # "observations"; ("header", "x-correlation-id") -> "header.x-correlation-id". List positions are
            # ints in pydantic's loc; a digit-only key of an object is a str, so it stays a field name.
            loc = [p for p in err.get("loc", ()) if p != "body"]
            at = next((i for i, p in enumerate(loc) if isinstance(p, int)), None)
            index = None if at is None else loc[at]
            named = loc if at is None else (loc[at + 1:] or loc[:at])
            field = ".".join(str(p) for p in named) or "body"
            entry: dict[str, object] = {"field": field, "reason": err.get("msg", "invalid")}
            if index is not None:
                entry["index"] = index
            errors.append(entry)
        return JSONResponse(
            {"error": "validation_failed", "message": "the request was rejected; nothing was accepted", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        cause = exc.__cause__
        if isinstance(cause, _BodyTooLarge):  # FastAPI read the body for a route and met BodyLimit's stop
            return _too_large_response(cause.limit)
        try:
            code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        except ValueError:
            code = f"http_{exc.status_code}"
        body: dict[str, object] = {"error": code, "message": str(exc.detail)}
        if exc.status_code == 400 and cause is not None:  # FastAPI could not decode the JSON body
            why = "nested too deeply" if isinstance(cause, RecursionError) else str(cause)[:200]
            body["errors"] = [{"field": "body", "reason": f"{exc.detail}: {why}"}]
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


class BodyLimit:
    """ASGI middleware: answer 413 once a request body exceeds its path's limit, declared or streamed."""

    def __init__(self, app, limit_for, render=None) -> None:  # noqa: ANN001 - ASGI app; limit_for(path) -> bytes
        self.app = app
        self.limit_for = limit_for
        self.render = render or _too_large_body  # render(limit) -> the JSON body of the 413, in the service's format

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, self.render(limit))
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.render(limit))


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes its limit. FastAPI turns any failure while it reads
    a route's body into a 400 raised from this one; the HTTPException handler answers those 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


def _too_large_body(limit: int) -> dict[str, str]:
    return {"error": "payload_too_large", "message": f"request body exceeds {limit} bytes"}


def _too_large_response(limit: int) -> JSONResponse:
    return JSONResponse(_too_large_body(limit), status_code=413)


def body_limit_of(exc: Exception) -> int | None:
    """The limit a request body passed, when FastAPI's 400 for an unreadable body was BodyLimit's stop."""
    cause = exc.__cause__
    return cause.limit if isinstance(cause, _BodyTooLarge) else None


async def _too_large(send, payload: dict) -> None:  # noqa: ANN001
    import json

    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
