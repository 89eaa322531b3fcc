"""Read API over the Redis league-table read model: leagues, one league's table (with ETag) and its
sensitivity to the method, one trust."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from services.publisher.errors import NotFound
from services.publisher.runtime import RuntimeDep
from shared.methodology import VERSIONS, get_methodology

router = APIRouter(prefix="/v1", tags=["read"])

#: Every league some methodology version scores, listed before its first table exists.
KNOWN_LEAGUES = tuple(sorted({league for v in VERSIONS for league in get_methodology(v).leagues}))


def etag(league: str, version: int) -> str:
    return f'W/"{league}-{version}"'


def _etag_matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {t.strip() for t in if_none_match.split(",")}
    return "*" in candidates or tag in candidates or tag.removeprefix("W/") in candidates


@router.get("/leagues", summary="Leagues with their current versions")
async def leagues(rt: RuntimeDep) -> dict[str, Any]:
    versions = await rt.cache.versions()
    slugs = sorted(set(KNOWN_LEAGUES) | set(versions))
    return {"leagues": [{"league": s, "version": versions.get(s, 0), "href": f"/v1/leagues/{s}"} for s in slugs]}


@router.get("/leagues/{league}", summary="One league's table",
            responses={304: {"description": "Not modified (If-None-Match matched the ETag)"},
                       404: {"description": "Unknown league"}})
async def league(league: str, rt: RuntimeDep,
                 if_none_match: Annotated[str | None, Header()] = None) -> Response:
    versions = await rt.cache.versions()
    if league not in versions:
        raise NotFound(f"unknown league {league!r}; known: {sorted(set(KNOWN_LEAGUES) | set(versions))}")
    tag = etag(league, versions[league])
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if _etag_matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    snapshot = await rt.cache.league(league)
    if snapshot is None:
        raise NotFound(f"league {league!r} has no table yet")
    headers["ETag"] = etag(league, int(snapshot.get("version", versions[league])))
    return Response(json.dumps(snapshot, separators=(",", ":")), media_type="application/json", headers=headers)


async def _league_view(rt, league: str, kind: str, if_none_match: str | None) -> Response:
    versions = await rt.cache.versions()
    if league not in versions:
        raise NotFound(f"unknown league {league!r}; known: {sorted(set(KNOWN_LEAGUES) | set(versions))}")
    headers = {"ETag": etag(f"{league}-{kind}", versions[league]), "Cache-Control": "no-cache"}
    if _etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    view = await rt.views.view(rt.cache, league, versions[league], kind)
    headers["ETag"] = etag(f"{league}-{kind}", int(view.get("version") or 0))
    return Response(json.dumps(view, separators=(",", ":")), media_type="application/json", headers=headers)


@router.get("/leagues/{league}/sensitivity",
            summary="Each trust's rank under the published method and under alternatives, with the span of ranks",
            responses={304: {"description": "Not modified (If-None-Match matched the ETag)"},
                       404: {"description": "Unknown league"}})
async def sensitivity(league: str, rt: RuntimeDep,
                      if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """Computed from the read model by the batch methodology, once per league version (docs/PUBLISHER.md)."""
    return await _league_view(rt, league, "sensitivity", if_none_match)


@router.get("/leagues/{league}/metrics",
            summary="Each metric's spread across the league's trusts: lowest, quartiles, median, highest",
            responses={304: {"description": "Not modified (If-None-Match matched the ETag)"},
                       404: {"description": "Unknown league"}})
async def metrics(league: str, rt: RuntimeDep,
                  if_none_match: Annotated[str | None, Header()] = None) -> Response:
    return await _league_view(rt, league, "metrics", if_none_match)


@router.get("/trusts/{code}", summary="One trust's explanation with its recent segment and rank history",
            responses={404: {"description": "Unknown trust"}})
async def trust(code: str, rt: RuntimeDep) -> dict[str, Any]:
    explanation = await rt.cache.trust(code)
    if explanation is None:
        raise NotFound(f"unknown trust {code!r} (no explanation in the read model)")
    return {**explanation, "history": await rt.cache.history(code)}
