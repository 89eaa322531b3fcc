"""Sending generated streams through ingest and waiting for the read model to settle."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx

from shared.events import ChangeEvent
from tests.support.pipeline import Pipeline
from tests.support.streams import Item, mismatches


def ingest_requests(items: list[Item], batch: int = 25) -> Iterator[tuple[str, Any]]:
    """The ingest requests for a stream, in order: ("obs", a batch of observation bodies) or ("fin", a
    finance change) -- observations in batches, finance one at a time."""
    pending: list[dict[str, Any]] = []
    for item in items:
        if item.kind == "obs":
            pending.append(item.body)
            if len(pending) >= batch:
                yield "obs", pending
                pending = []
        else:
            if pending:
                yield "obs", pending
                pending = []
            yield "fin", item.body
    if pending:
        yield "obs", pending


def send(pipeline: Pipeline, items: list[Item], batch: int = 25) -> None:
    """Observations in batches, finance one at a time, in stream order; every request must be accepted."""
    for kind, body in ingest_requests(items, batch):
        if kind == "obs":
            response = pipeline.post_observations(body)
        else:
            response = pipeline.put_finance(body["code"], body["in_deficit"], body["support"])
        assert response.status_code == 202, response.text


async def send_async(pipeline: Pipeline, items: list[Item], batch: int = 25) -> None:
    """``send`` without blocking the event loop (for tests that also run an SSE client or a webhook
    receiver in it): the same requests over ingest's public HTTP API, in the same order."""
    auth = {"Authorization": f"Bearer {pipeline.ingest_key}"}
    async with httpx.AsyncClient(base_url=pipeline.url("ingest"), headers=auth, timeout=30) as client:
        for kind, body in ingest_requests(items, batch):
            if kind == "obs":
                response = await client.post("/v1/observations", json={"observations": body})
            else:
                response = await client.put(f"/v1/trusts/{body['code']}/finance", json={
                    "in_deficit": body["in_deficit"], "receives_deficit_support": body["support"]})
            assert response.status_code == 202, response.text


def wait_for_tables(pipeline: Pipeline, results, timeout: float = 90.0) -> list[str]:
    """Poll Redis until every league equals the batch result; returns the last differences seen."""
    deadline = time.monotonic() + timeout
    diff: list[str] = ["never checked"]
    while time.monotonic() < deadline:
        diff = [d for league in results.leagues for d in mismatches(pipeline.league(league), results, league)]
        if not diff:
            return []
        time.sleep(0.5)
    return diff


def change_events(pipeline: Pipeline) -> list[ChangeEvent]:
    return [ChangeEvent.model_validate_json(r.value) for r in pipeline.read_topic("nof.changes.v1")]


def fold(events: list[ChangeEvent]) -> dict[tuple[str, str], dict[str, Any]]:
    """Replay change events: per (league, trust), the newest value of every published field."""
    state: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    newest: dict[tuple[str, str, str], int] = {}
    for e in sorted(events, key=lambda e: e.league_version):
        for field, value in e.new.items():
            if field in ("metric_scores", "average_range"):
                continue
            key = (e.league, e.trust_code, field)
            if e.league_version >= newest.get(key, -1):
                newest[key] = e.league_version
                state[(e.league, e.trust_code)][field] = value
    return state


def fold_mismatches(folded: dict[tuple[str, str], dict[str, Any]], results) -> list[str]:
    out = []
    for league, table in results.leagues.items():
        for r in table.entries:
            expected = r.to_dict()
            for field, value in folded.get((league, r.trust_code), {}).items():
                if expected[field] != value:
                    out.append(f"{league}/{r.trust_code}.{field}: events say {value!r}, batch says {expected[field]!r}")
            if r.rank is not None and "rank" not in folded.get((league, r.trust_code), {}):
                out.append(f"{league}/{r.trust_code}: ranked but no rank event")
    return out
