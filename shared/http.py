"""Routes every HTTP service exposes: health with named dependency checks, and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from shared import problems
from shared.errors import BodyTooLarge
from shared.telemetry import metrics_payload

Check = Callable[[], Awaitable[bool]]


class Health(BaseModel):
    service: str
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(description='each dependency: "ok", or "down" with the reason')


def operational_router(service: str, checks: Mapping[str, Check]) -> APIRouter:
    """`/healthz` runs each dependency check (503 when one is down); `/metrics` is the Prometheus exposition."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness and dependency health",
                responses={200: {"model": Health, "description": "Every dependency answers"},
                           503: {"model": Health, "description": "A dependency is down (named in checks)"}})
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


class BodyLimit:
    """ASGI middleware: answer 413 (a problem, shared/problems.py) once a request body exceeds its path's limit,
    declared or streamed. A route that never reads its body (GET, DELETE) is not limited."""

    def __init__(self, app, limit_for) -> None:  # noqa: ANN001 - ASGI app; limit_for(path) -> bytes
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope.get("method") in UNREAD_BODY:
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await _too_large(send, limit, problems.instance(scope))
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit, problems.instance(scope))


UNREAD_BODY = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


async def _too_large(send, limit: int, path: str) -> None:  # noqa: ANN001
    body = problems.encode(413, f"request body exceeds {limit} bytes", path)
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", problems.MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
