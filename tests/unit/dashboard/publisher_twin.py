"""An in-memory twin of the publisher's read API and SSE stream that serves the real dashboard files.

It answers the publisher contract (``/v1/leagues``, ``/v1/leagues/{league}`` with ETags, ``/v1/trusts/{code}``,
``/v1/stream``) from fixture JSON, and adds one test-only route, ``POST /_twin/push``, through which a test
replaces a league snapshot and pushes CloudEvents to the open streams, as the real publisher would after a
scoring change. ``serve`` runs it with uvicorn on 127.0.0.1 in a background thread.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sse_starlette import EventSourceResponse

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "services" / "publisher" / "static"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LEAGUES = ("acute", "mental-health-community", "ambulance")


def load_fixtures() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    leagues = {slug: json.loads((FIXTURES / f"league-{slug}.json").read_text()) for slug in LEAGUES}
    trusts = {p.stem.removeprefix("trust-"): json.loads(p.read_text()) for p in FIXTURES.glob("trust-*.json")}
    return leagues, trusts


class PublisherTwin:
    """The read model and the stream subscribers, held in memory; reset between tests."""

    def __init__(self) -> None:
        self.subscribers: list[tuple[str | None, asyncio.Queue[dict[str, Any]]]] = []
        self.stream_queries: list[dict[str, str]] = []
        self.sequence = 0
        self.reset()

    def reset(self) -> None:
        self.leagues, self.trusts = load_fixtures()
        self.stream_queries.clear()

    def league_of(self, code: str) -> dict[str, Any] | None:
        for snapshot in self.leagues.values():
            for entry in snapshot["entries"]:
                if entry["trust_code"] == code:
                    return {"snapshot": snapshot, "entry": entry}
        return None

    def explanation(self, code: str) -> dict[str, Any]:
        if code in self.trusts:
            return self.trusts[code]
        found = self.league_of(code)
        if found is None:
            raise HTTPException(404, f"unknown trust {code}")
        entry = found["entry"]
        return {"trust_code": code, "trust_name": entry["trust_name"], "league": found["snapshot"]["league"],
                "version": found["snapshot"]["version"], "result": entry, "metrics": [], "history": []}

    def publish(self, league: str, message: dict[str, Any]) -> int:
        """Queue one SSE message for every stream on ``league`` (or on every league); returns how many."""
        self.sequence += 1
        message = {"id": str(self.sequence), **message}
        targets = [q for wanted, q in self.subscribers if wanted in (None, league)]
        for queue in targets:
            queue.put_nowait(message)
        return len(targets)

    def app(self) -> FastAPI:
        app = FastAPI(title="publisher twin")
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(STATIC / "index.html")

        @app.get("/v1/leagues")
        def leagues() -> dict[str, list[dict[str, Any]]]:
            # The publisher's shape (the first contract draft had a bare list; the page reads both).
            return {"leagues": [{"league": slug, "version": self.leagues[slug]["version"], "href": f"/v1/leagues/{slug}"}
                                for slug in sorted(self.leagues)]}

        @app.get("/v1/leagues/{league}")
        def league(league: str, request: Request) -> Response:
            if league not in self.leagues:
                raise HTTPException(404, f"unknown league {league}")
            snapshot = self.leagues[league]
            etag = f'"{league}-{snapshot["version"]}"'
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"ETag": etag})
            return Response(json.dumps(snapshot), media_type="application/json", headers={"ETag": etag})

        @app.get("/v1/trusts/{code}")
        def trust(code: str) -> dict[str, Any]:
            return self.explanation(code)

        @app.get("/v1/leagues/{league}/sensitivity")
        def sensitivity(league: str) -> dict[str, Any]:
            if league not in self.leagues:
                raise HTTPException(404, f"unknown league {league}")
            return sensitivity_view(self.leagues[league])

        @app.get("/v1/leagues/{league}/metrics")
        def metrics(league: str) -> dict[str, Any]:
            if league not in self.leagues:
                raise HTTPException(404, f"unknown league {league}")
            return metric_spread(self.leagues[league], self.trusts)

        @app.get("/trusts/{code}", include_in_schema=False)
        def trust_page(code: str) -> FileResponse:
            return FileResponse(STATIC / "trust.html")

        @app.get("/leagues/{league}/sensitivity", include_in_schema=False)
        def sensitivity_page(league: str) -> FileResponse:
            return FileResponse(STATIC / "sensitivity.html")

        @app.get("/v1/stream")
        async def stream(request: Request) -> EventSourceResponse:
            self.stream_queries.append(dict(request.query_params))
            subscriber = (request.query_params.get("league"), asyncio.Queue())
            self.subscribers.append(subscriber)

            async def messages() -> AsyncIterator[dict[str, Any]]:
                try:
                    while True:
                        yield await subscriber[1].get()
                finally:
                    self.subscribers.remove(subscriber)

            return EventSourceResponse(messages(), ping=15)

        @app.post("/_twin/push")
        async def push(body: dict[str, Any]) -> dict[str, int]:
            """Body: ``league``, optional ``snapshot`` (replaces it), ``events`` (CloudEvents), ``sse_event`` name."""
            league = body["league"]
            if "snapshot" in body:
                self.leagues[league] = body["snapshot"]
            delivered = 0
            for cloud_event in body.get("events", []):
                name = body.get("sse_event", cloud_event["type"])
                message = {"data": json.dumps(cloud_event)} | ({"event": name} if name else {})
                delivered += self.publish(league, message)
            if body.get("overflow"):
                delivered += self.publish(league, {"event": "overflow", "data": "{}"})
            return {"delivered": delivered}

        return app


METHODS = [("published", "Published method"), ("min-max", "Min–max scores"), ("quartile", "Quartile cut-offs"),
           ("domain-weight", "Equal weight per domain"), ("no-cap", "Without the deficit cap")]


def sensitivity_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The publisher's sensitivity view in shape, with made-up alternative ranks: capped trusts rank higher
    without the cap, and every third trust swaps one place under min-max (the real numbers are tested in
    tests/unit/publisher/test_sensitivity.py)."""
    entries = []
    for i, entry in enumerate(snapshot["entries"]):
        rank = entry.get("rank")
        ranks = {key: rank for key, _ in METHODS}
        if rank is not None:
            ranks["min-max"] = rank + (1 if i % 3 == 0 else 0)
            ranks["no-cap"] = max(1, rank - 2) if entry.get("capped") else rank
        shown = [r for r in ranks.values() if r is not None]
        entries.append({"trust_code": entry["trust_code"], "trust_name": entry["trust_name"], "region": entry.get("region"),
                        "subtype": entry.get("subtype"), "published_rank": rank, "ranks": ranks,
                        "lowest_rank": min(shown, default=None), "highest_rank": max(shown, default=None),
                        "span": max(shown) - min(shown) if shown else None})
    moved = sum(1 for e in entries if e["span"])
    return {"league": snapshot["league"], "version": snapshot["version"], "methodology_version": "nof-2025-26",
            "methods": [{"key": k, "label": label, "description": f"the {label.lower()}",
                         "methodology_version": "nof-2025-26" if k == "published" else f"nof-2025-26+{k}"}
                        for k, label in METHODS],
            "reproduces_published": True, "note": "Ranks 1 (best) upwards.",
            "summary": f"{moved} of the {len(entries)} ranked trusts get a different rank under at least one of the 5 methods.",
            "entries": entries}


def metric_spread(snapshot: dict[str, Any], trusts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each metric of the explained trusts in the league, with a spread around its value."""
    members = {e["trust_code"] for e in snapshot["entries"]}
    metrics = {}
    for code, x in trusts.items():
        for line in x.get("metrics", []) if code in members else []:
            if line.get("value") is not None and line["metric_id"] not in metrics:
                v = float(line["value"])
                metrics[line["metric_id"]] = {"metric_id": line["metric_id"], "name": line.get("name"),
                                              "unit": line.get("unit"), "direction": line.get("direction"),
                                              "trusts": 9, "min": v * 0.6, "q1": v * 0.9, "median": v * 1.05,
                                              "q3": v * 1.2, "max": v * 1.5}
    return {"league": snapshot["league"], "version": snapshot["version"], "metrics": list(metrics.values())}


@contextmanager
def serve(twin: PublisherTwin) -> Iterator[str]:
    """Run the twin with uvicorn on a free 127.0.0.1 port in a daemon thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(twin.app(), log_level="warning", lifespan="off", ws="none", http="h11",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="publisher-twin", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the publisher twin did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def changed_snapshot(snapshot: dict[str, Any], code: str, **fields: Any) -> dict[str, Any]:
    """A copy of ``snapshot`` one version on, with ``code``'s entry updated and ranks recomputed (§6)."""
    new = copy.deepcopy(snapshot)
    new["version"] += 1
    for entry in new["entries"]:
        if entry["trust_code"] == code:
            entry.update(fields)
    ranked = [e for e in new["entries"] if e["average"] is not None]
    for entry in ranked:
        key = (entry["segment"], float(entry["average"]))
        entry["rank"] = 1 + sum((o["segment"], float(o["average"])) < key for o in ranked)
    new["entries"].sort(key=lambda e: (e["rank"] is None, e["rank"] or 0, e["trust_code"]))
    return new
