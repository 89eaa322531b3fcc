"""End to end through the public interfaces only: observations and finance changes go in over ingest's
HTTP API; league tables, explanations, Server-Sent Events and signed webhooks come out of the publisher;
everything equals the batch methodology on the same inputs.

The pipeline is an isolated one (tests/support/pipeline.py: real service processes, their own topics,
Redis prefix and ports), so the inputs are exactly known; the shared stack holds demo data. The test acts
and observes over HTTP and SSE only: Kafka and Redis are touched only to clean up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from services.publisher import signing
from services.publisher.auth import sha256_hex
from shared.events import ChangeEvent
from tests.integration.pipeline.helpers import fold, fold_mismatches, send_async
from tests.integration.publisher.publisher_live import AUTH, TOKEN, Receiver, receiver
from tests.support.pipeline import Pipeline, running
from tests.support.streams import COMPARED, expected, explanation_mismatches, generate, mismatches

SEED, ITEMS = 23, 300
DEADLINE_S = 45  # for everything to settle after the last request (each check polls until then)
CHANGE_TYPES = {f"uk.nhs.nof.{t}" for t in ("assessment.changed", "segment.changed", "rank.changed")}
# What an explanation must agree on with the table and the batch.
EXPLAINED = (*COMPARED, "metric_scores")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    # The admin token is configured the production way (its SHA-256 in the environment).
    with running(tmp_path_factory.mktemp("public-interfaces"),
                 extra_env={"NOF_PUBLISHER_ADMIN_TOKEN_SHA256": sha256_hex(TOKEN)}) as p:
        yield p


@dataclass
class SseClient:
    """An EventSource-like client of ``GET /v1/stream``: keeps every message and, when the server ends the
    stream (an ``overflow`` or a dropped connection), reconnects with the last id, as browsers do."""

    base: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)  # gap / overflow messages
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    last_id: str | None = None

    async def run(self) -> None:
        timeout = httpx.Timeout(10, read=None)  # heartbeats every 15 s; events may pause longer
        async with httpx.AsyncClient(base_url=self.base, timeout=timeout) as client:
            while True:
                headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
                try:
                    async with client.stream("GET", "/v1/stream", headers=headers) as response:
                        assert response.status_code == 200, await response.aread()
                        self.connected.set()  # the publisher registers the listener before it answers
                        await self._read(response)
                except httpx.TransportError:
                    pass
                # Resume where we were; before any message, from the start of this fresh pipeline's log.
                self.last_id = self.last_id or "0-0"

    async def _read(self, response: httpx.Response) -> None:
        current: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(":"):
                continue  # heartbeat
            if line:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                current[name] = current[name] + "\n" + value if name == "data" and name in current else value
                continue
            if not current:
                continue
            message, current = current, {}
            if message.get("event", "").startswith("uk.nhs.nof."):
                self.messages.append(message)
                self.last_id = message["id"]
            else:
                self.notices.append(message)
                if message.get("event") == "overflow":
                    self.last_id = json.loads(message["data"])["last_event_id"]
                    return


def cloudevents_of_sse(sse: SseClient) -> list[dict[str, Any]]:
    out = []
    for m in sse.messages:
        ce = json.loads(m["data"])
        assert m["event"] == ce["type"], m
        out.append(ce)
    return out


def cloudevents_of_webhooks(rx: Receiver, path: str, secret: str) -> list[dict[str, Any]]:
    out = []
    for d in rx.deliveries[path]:
        h, ce = d.headers, d.event
        assert h["webhook-id"] == ce["id"], h
        assert signing.verify(secret, h["webhook-id"], int(h["webhook-timestamp"]), d.body, h["webhook-signature"])
        out.append(ce)
    return out


def changes(cloudevents: list[dict[str, Any]]) -> list[ChangeEvent]:
    return [ChangeEvent.model_validate(ce["data"]) for ce in cloudevents if ce["type"] in CHANGE_TYPES]


def order_problems(cloudevents: list[dict[str, Any]], channel: str) -> list[str]:
    """Per league, change events arrive in league-version order (docs/PUBLISHER.md)."""
    last: dict[str, int] = {}
    out = []
    for ce in cloudevents:
        if ce["type"] in CHANGE_TYPES:
            if ce["leagueversion"] < last.get(ce["league"], 0):
                out.append(f"{channel}: {ce['league']} version {ce['leagueversion']} after {last[ce['league']]}")
            last[ce["league"]] = max(last.get(ce["league"], 0), ce["leagueversion"])
    return out


async def api_leagues(api: httpx.AsyncClient) -> dict[str, int]:
    response = await api.get("/v1/leagues")
    assert response.status_code == 200, response.text
    return {row["league"]: row["version"] for row in response.json()["leagues"]}


async def api_tables(api: httpx.AsyncClient, leagues: dict[str, int]) -> dict[str, dict[str, Any] | None]:
    tables: dict[str, dict[str, Any] | None] = {}
    for league in leagues:
        response = await api.get(f"/v1/leagues/{league}")
        assert response.status_code in (200, 404), response.text
        tables[league] = response.json() if response.status_code == 200 else None
    return tables


async def until(check, what: str, deadline: float, interval: float = 0.5):  # noqa: ANN001
    """Poll the async ``check`` (returns a list of problems) until it returns none or the deadline passes."""
    problems: list[str] = ["never checked"]
    while time.monotonic() < deadline:
        problems = await check()
        if not problems:
            return
        await asyncio.sleep(interval)
    shown = "\n".join(problems[:20])
    pytest.fail(f"{what}: still {len(problems)} difference(s) at the deadline, e.g.\n{shown}")


async def test_ingest_http_to_tables_sse_and_webhooks_equals_batch(pipeline: Pipeline):
    items = generate(seed=SEED, n=ITEMS)
    assert {i.kind for i in items} == {"obs", "fin"}
    results = expected(items)
    assert set(results.leagues) == {"ambulance", "mental-health-community"}
    async with receiver() as rx, httpx.AsyncClient(base_url=pipeline.url("publisher"), timeout=30) as api:
        # Subscribe both ways before anything is sent.
        response = await api.post("/v1/subscriptions", json={"url": rx.url("/e2e"), "description": "e2e"},
                                  headers=AUTH)
        assert response.status_code == 201, response.text
        secret = response.json()["secret"]
        sse = SseClient(pipeline.url("publisher"))
        reader = asyncio.create_task(sse.run())
        try:
            await asyncio.wait_for(sse.connected.wait(), 15)
            before = await api_leagues(api)
            assert set(results.leagues) <= set(before) and set(before.values()) == {0}, before  # nothing scored yet

            await send_async(pipeline, items)
            deadline = time.monotonic() + DEADLINE_S

            # (a) Every league's table from the read API equals the batch result.
            async def tables_differ() -> list[str]:
                tables = await api_tables(api, await api_leagues(api))
                return [d for league, table in tables.items() for d in mismatches(table, results, league)]

            await until(tables_differ, "league tables from GET /v1/leagues/{league} against the batch", deadline)
            versions = await api_leagues(api)

            # (b) SSE and the webhook receiver got the same events, up to each league's final version,
            # and folding the change events gives the batch state.
            async def streams_differ() -> list[str]:
                if reader.done():
                    reader.result()  # the SSE client failed: raise its error here
                out = []
                for channel, cloudevents in (("sse", cloudevents_of_sse(sse)),
                                             ("webhook", cloudevents_of_webhooks(rx, "/e2e", secret))):
                    seen = defaultdict(int)
                    for ce in cloudevents:
                        seen[ce["league"]] = max(seen[ce["league"]], ce["leagueversion"])
                    out += [f"{channel}: {lg} up to version {seen[lg]} of {v}" for lg, v in versions.items() if seen[lg] != v]
                    out += [f"{channel}: {d}" for d in fold_mismatches(fold(changes(cloudevents)), results)]
                sse_ids = {ce["id"] for ce in cloudevents_of_sse(sse)}
                hook_ids = {ce["id"] for ce in cloudevents_of_webhooks(rx, "/e2e", secret)}
                out += [f"only over SSE: {i}" for i in sorted(sse_ids - hook_ids)]
                out += [f"only by webhook: {i}" for i in sorted(hook_ids - sse_ids)]
                return out

            await until(streams_differ, "events received over SSE and by the webhook receiver", deadline)
            # The last version's events may straddle two of the publisher's polls: settle, then check again.
            await asyncio.sleep(0.5)
            await until(streams_differ, "events received over SSE and by the webhook receiver", deadline)

            sse_events, hook_events = cloudevents_of_sse(sse), cloudevents_of_webhooks(rx, "/e2e", secret)
            assert len({m["id"] for m in sse.messages}) == len(sse.messages), "an SSE position came twice"
            assert len({ce["id"] for ce in sse_events}) == len(sse_events), "an event came twice over SSE"
            assert order_problems(sse_events, "sse") == [] and order_problems(hook_events, "webhook") == []
            assert not [n for n in sse.notices if n.get("event") == "gap"], sse.notices
            received = changes(sse_events)
            assert len(received) > 100 and {e.type for e in received} == {
                "assessment.changed", "segment.changed", "rank.changed"}
            assert {ce["id"] for ce in hook_events} == {ce["id"] for ce in sse_events}
            assert fold_mismatches(fold(received), results) == []
            assert fold_mismatches(fold(changes(hook_events)), results) == []
            # Every input carried its request's correlation id, and the events name it as their cause.
            assert all(e.cause.correlation_id for e in received)

            # (c) Each trust's explanation agrees with its table row and with the batch.
            async def explanations(fields: tuple[str, ...]) -> list[str]:
                tables = await api_tables(api, versions)
                out = []
                for league, table in results.leagues.items():
                    rows = {e["trust_code"]: e for e in (tables[league] or {}).get("entries", [])}
                    for r in table.entries:
                        response = await api.get(f"/v1/trusts/{r.trust_code}")
                        body = response.json() if response.status_code == 200 else None
                        out += explanation_mismatches(body, results, league, r.trust_code, rows.get(r.trust_code),
                                                      fields)
                        if "rank" in fields:
                            out += history_problems(body, rows.get(r.trust_code), league)
                return out

            await until(lambda: explanations(EXPLAINED), "GET /v1/trusts/{code} against the table and the batch",
                        deadline)
            assert (await api.get("/v1/trusts/NOPE")).status_code == 404
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


def history_problems(explanation: dict[str, Any] | None, row: dict[str, Any] | None, league: str) -> list[str]:
    """The newest segment and rank changes in a trust's history are the values its table row shows."""
    if explanation is None or row is None:
        return []
    out = []
    for event_type, fieldname in (("segment.changed", "segment"), ("rank.changed", "rank")):
        newest = next((h for h in explanation.get("history", []) if h["type"] == event_type), None)
        if newest is not None and newest["new"].get(fieldname) != row.get(fieldname):
            out.append(f"{league}/{row['trust_code']} history: newest {event_type} says {newest['new'].get(fieldname)!r}, "
                       f"the table {row.get(fieldname)!r}")
    return out
