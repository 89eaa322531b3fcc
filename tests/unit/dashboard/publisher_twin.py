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
