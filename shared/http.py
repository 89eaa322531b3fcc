"""Routes every HTTP service exposes: liveness, readiness with named checks, and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from shared.telemetry import metrics_payload

Check = Callable[[], Awaitable[bool]]


def operational_router(service: str, checks: Mapping[str, Check]) -> APIRouter:
    """`/healthz` answers while the process serves; `/readyz` also runs each dependency check."""
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
