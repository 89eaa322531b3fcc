"""Views computed from a whole league in the read model (the sensitivity to the method, each metric's spread),
computed on first request and kept while the league's version holds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from shared.methodology import DEFAULT_VERSION, Methodology, TrustInfo, UnknownMethodology, get_methodology

from services.publisher.errors import NotFound
from services.publisher.sensitivity import sensitivity
from services.publisher.spread import metric_spread

#: view name -> fn(methodology, league snapshot, explanations, trust register) -> JSON-ready view
Compute = Callable[[Methodology, Mapping[str, Any], Mapping[str, Mapping[str, Any]], Mapping[str, TrustInfo]],
                   dict[str, Any]]
VIEWS: dict[str, Compute] = {"sensitivity": sensitivity, "metrics": metric_spread}


class ReadModel(Protocol):
    async def league(self, slug: str) -> dict[str, Any] | None: ...
    async def trust(self, code: str) -> dict[str, Any] | None: ...


class LeagueViews:
    """One of each view per league, keyed by league version; computed in a worker thread, one league at a time."""

    def __init__(self, register: Mapping[str, TrustInfo]) -> None:
        self.register = register
        self._views: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _held(self, kind: str, league: str, version: int) -> dict[str, Any] | None:
        held = self._views.get((kind, league))
        return held[1] if held is not None and held[0] >= version else None

    async def view(self, read_model: ReadModel, league: str, version: int,
                   kind: str = "sensitivity") -> dict[str, Any]:
        compute = VIEWS[kind]
        if (view := self._held(kind, league, version)) is not None:
            return view
        async with self._locks.setdefault(league, asyncio.Lock()):
            if (view := self._held(kind, league, version)) is not None:
                return view
            snapshot = await read_model.league(league)
            if snapshot is None:
                raise NotFound(f"league {league!r} has no table yet")
            name = snapshot.get("methodology_version") or DEFAULT_VERSION
            try:
                m = get_methodology(name)
            except UnknownMethodology:
                raise NotFound(f"league {league!r} was scored by methodology {name!r}, "
                               "which this publisher does not know") from None
            explanations = await self._explanations(read_model, m.leagues if m.cross_league else (league,),
                                                    league, snapshot)
            view = await asyncio.to_thread(compute, m, snapshot, explanations, self.register)
            self._views[(kind, league)] = (int(snapshot.get("version") or 0), view)
            return view

    @staticmethod
    async def _explanations(read_model: ReadModel, leagues, league: str,
                            snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out = {}
        for slug in leagues:
            table = snapshot if slug == league else await read_model.league(slug)
            for entry in (table or {}).get("entries") or ():
                code = entry.get("trust_code")
                if code and (explained := await read_model.trust(code)) is not None:
                    out[code] = explained
        return out
