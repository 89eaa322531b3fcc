"""The dashboard's pages that have their own addresses: a trust page and a league's sensitivity view."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.publisher.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)


@router.get("/trusts/{code}")
async def trust_page(code: str, rt: RuntimeDep) -> FileResponse:
    return FileResponse(rt.settings.static_dir / "trust.html")


@router.get("/leagues/{league}/sensitivity")
async def sensitivity_page(league: str, rt: RuntimeDep) -> FileResponse:
    return FileResponse(rt.settings.static_dir / "sensitivity.html")
