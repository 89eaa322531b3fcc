"""The fuzz tier's apps, twins and contracts.

Both services run in-process over their in-memory twins: ingest over MemoryInputSink, the publisher over
MemoryEventLog, MemorySubscriptionStore, MemorySubscriptionLog, an in-memory league read model and a target guard that never
resolves a name over the network. Nothing here needs Kafka, Redis or DNS.

The contract every answer to bad input must meet, in both services (shared/problems.py): a 4xx RFC 9457
problem, ``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and ``instance``; a 422
also lists ``errors``, each naming a ``field`` and a ``reason`` (and the batch ``index`` where one applies);
401 carries ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings

from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.ingest.ledger import MemoryLedger
from services.ingest.trust_log import MemoryTrustLog
from services.ingest.sink import MemoryInputSink
from services.publisher.app import create_app as create_publisher
from services.publisher.auth import sha256_hex
from services.publisher.event_log import MemoryEventLog
from services.publisher.settings import PublisherSettings
from services.publisher.ssrf import TargetGuard
from services.publisher.subscription_log import MemorySubscriptionLog
from services.publisher.subscriptions import MemorySubscriptionStore
from shared.api_keys import ApiKey, hash_key

#: Every fuzz test: the same examples on every run (no database, no random seed), no per-example deadline
#: (the machine may be busy; a slow example is not a failure here), shrinking kept so a failure is small.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

WRITER = "fuzz-writer-key"
STATUS_ONLY = "fuzz-status-only-key"
ADMIN = "fuzz-admin-token"

MAX_BATCH = 20
MAX_BODY = 16 * 1024
MAX_CSV = 512 * 1024
CSV_FIELD_LIMIT = 131_072  # the csv module's default field_size_limit

KNOWN_TRUST = "R0A"  # an acute trust in shared/data/trusts.csv
KNOWN_METRIC = "OF0013"  # A&E 4-hour, a percentage (0-100) that applies to acute trusts


class Client:
    """A blocking facade over ``httpx.AsyncClient`` and ``httpx.ASGITransport`` on a private event loop.

    Hypothesis drives synchronous tests; this runs each request to completion on the loop, in this thread,
    with the app's exceptions raised (a crash fails the test with its traceback). A request body that is an
    iterable of chunks is streamed without a Content-Length, as a chunked upload would be.
    """

    #: Not a time limit under test: a guard so that a request that never ends (an SSE stream opened by
    #: mistake) fails its test instead of hanging the tier.
    HANG_GUARD_S = 60.0

    def __init__(self, app: Any, base_url: str, headers: dict[str, str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url, headers=headers)

    def build_request(self, method: str, url: str, **kwargs: Any) -> httpx.Request:
        return self.http.build_request(method, url, **kwargs)

    def send(self, request: httpx.Request) -> httpx.Response:
        return self._run(self.http.send(request))

    def request(self, method: str, url: str, *, content: bytes | Iterable[bytes] | None = None,
                headers: dict[str, str] | None = None, params: Any = None) -> httpx.Response:
        if content is not None and not isinstance(content, (bytes, str)):
            content = _chunks(content)
        return self._run(self.http.request(method, url, content=content, headers=headers, params=params))

    def _run(self, call: Any) -> httpx.Response:
        try:
            return self.loop.run_until_complete(asyncio.wait_for(call, self.HANG_GUARD_S))
        except TimeoutError:
            raise AssertionError(f"no answer within {self.HANG_GUARD_S} s: the request never ended") from None

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


async def _chunks(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def without_stack_environment(build: Callable[[], Any]) -> Any:
    """``build()`` with default settings, whatever the stack scripts exported (e.g. deploy/local/env.sh allows
    private webhook targets for development)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("NOF_"):
                mp.delenv(name)
        mp.setenv("NOF_ENVIRONMENT", "test")  # explicit, as `make test` runs it: local credentials allowed
        return build()


def observation(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"trust_code": KNOWN_TRUST, "metric_id": KNOWN_METRIC, "period": "2025-12", "value": 71.5}
    item.update(overrides)
    return item


# --- ingest -----------------------------------------------------------------------------------------------


@dataclass
class Ingest:
    client: Client
    sink: MemoryInputSink
    settings: IngestSettings

    def written(self) -> int:
        return len(self.sink.records)


def ingest_settings() -> IngestSettings:
    return IngestSettings(
        max_batch=MAX_BATCH, max_body_bytes=MAX_BODY, max_csv_bytes=MAX_CSV, csv_chunk_rows=4,
        api_keys=[
            ApiKey(name="writer", sha256=hash_key(WRITER),
                   scopes={"observations:write", "status:write", "trusts:write", "retractions:write"}),
            ApiKey(name="status-only", sha256=hash_key(STATUS_ONLY), scopes={"status:write"}),
        ],
    )


def build_ingest():  # noqa: ANN201 - (FastAPI app, MemoryInputSink)
    sink = MemoryInputSink()
    return create_ingest(ingest_settings(), sink=sink, ledger=MemoryLedger(), trust_log=MemoryTrustLog()), sink


# --- publisher --------------------------------------------------------------------------------------------


class MemoryLeagueCache:
    """The read model's reads (shared/league_cache.py) over dicts: one acute table and one trust."""

    def __init__(self) -> None:
        entry = {"trust_code": "RXX", "trust_name": "EXAMPLE TRUST", "segment": 2, "rank": 1}
        self.leagues = {"acute": {"league": "acute", "version": 3, "entries": [entry]}}
        self.trusts = {"RXX": {"trust_code": "RXX", "league": "acute", "version": 3, "result": entry}}

    async def versions(self) -> dict[str, int]:
        return {slug: snap["version"] for slug, snap in self.leagues.items()}

    async def league(self, slug: str) -> dict | None:
        return self.leagues.get(slug)

    async def trust(self, code: str) -> dict | None:
        return self.trusts.get(code)

    async def history(self, code: str, limit: int = 50) -> list[dict]:
        return []


class OfflineGuard(TargetGuard):
    """The real target guard, except that a host name is never looked up: it is IDNA-encoded (as
    getaddrinfo would, so names it refuses are refused here too) and answered with a public address."""

    async def resolve(self, host: str, port: int) -> list:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        if "\x00" in host:
            raise ValueError("embedded null character")
        host.encode("idna")
        return [ipaddress.ip_address("8.8.8.8")]


@dataclass
class Publisher:
    client: Client
    store: MemorySubscriptionStore
    event_log: MemoryEventLog

    def stored(self) -> tuple[dict, dict]:
        return dict(self.store.subs), dict(self.store.cursors)


def publisher_settings() -> PublisherSettings:
    # No Kafka consumer, webhook dispatcher or relay: the fuzz tier exercises the HTTP API only.
    return PublisherSettings(admin_token_sha256=sha256_hex(ADMIN), consume=False, dispatch=False,
                             public_topic_enabled=False, webhook_allow_private_targets=False)


def build_publisher():  # noqa: ANN201 - (FastAPI app, MemorySubscriptionStore, MemoryEventLog)
    store, event_log = MemorySubscriptionStore(), MemoryEventLog()
    app = create_publisher(publisher_settings(), event_log=event_log, store=store, sub_log=MemorySubscriptionLog())
    runtime = app.state.runtime
    runtime.cache = MemoryLeagueCache()
    runtime.guard = OfflineGuard(runtime.guard.allow_private, [])
    return app, store, event_log


# --- contracts --------------------------------------------------------------------------------------------

PROBLEM_KINDS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
                 405: "method-not-allowed", 409: "conflict", 413: "payload-too-large", 422: "validation-failed"}


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:500]!r}"


def field_of(where: tuple) -> tuple[str, int | None]:
    """The (field, index) a 422 names for a schema location: ("body", "observations", 2, "value") is field
    "value" at index 2, ("query", "limit") is "query.limit" (shared/problems.py, field_errors)."""
    loc = [p for p in where if p != "body"]
    at = next((i for i, p in enumerate(loc) if isinstance(p, int)), None)
    named = loc if at is None else (loc[at + 1:] or loc[:at])
    return ".".join(map(str, named)) or "body", None if at is None else loc[at]


def rejection(response: httpx.Response, *statuses: int, field: str | None = None, index: int | None = None) -> dict:
    """Assert ``response`` is a clear 4xx problem (one of ``statuses`` when given) and return its body; with
    ``field``, a validation error must name that field (a dotted prefix of it counts), at ``index`` if given."""
    status = response.status_code
    assert 400 <= status < 500, describe(response)
    if statuses:
        assert status in statuses, describe(response)
    assert response.headers.get("content-type", "") == "application/problem+json", describe(response)
    body = response.json()
    assert body.get("type") == "urn:nof-live:problem:" + PROBLEM_KINDS[status], describe(response)
    assert body.get("status") == status, describe(response)
    assert isinstance(body.get("title"), str) and body["title"], describe(response)
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), describe(response)
    assert isinstance(body.get("instance"), str) and body["instance"].startswith("/"), describe(response)
    assert set(body) <= {"type", "title", "status", "detail", "instance", "errors"}, describe(response)
    if status == 401:
        assert response.headers.get("www-authenticate") == "Bearer", describe(response)
    if status == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, describe(response)
        for err in errors:
            assert isinstance(err.get("field"), str) and err["field"], describe(response)
            assert isinstance(err.get("reason"), str) and err["reason"].strip(), describe(response)
            assert set(err) <= {"field", "reason", "index"}, describe(response)
            assert isinstance(err.get("index", 0), int), describe(response)
    if field is not None:
        named = [(e["field"], e.get("index")) for e in body.get("errors", [])]
        hit = [(f, i) for f, i in named if f == field or f.startswith(field + ".")]
        assert hit and (index is None or any(i == index for _, i in hit)), \
            f"{field!r} (index {index}) not named: {describe(response)}"
    return body


def ingest_rejection(response: httpx.Response, *statuses: int, field: str | None = None,
                     index: int | None = None) -> dict:
    return rejection(response, *statuses, field=field, index=index)


def publisher_rejection(response: httpx.Response, *statuses: int, loc: tuple | None = None) -> dict:
    """As ``rejection``; ``loc`` is a schema location, e.g. ("body", "filters") or ("query", "limit")."""
    if loc is None:
        return rejection(response, *statuses)
    field, index = field_of(loc)
    return rejection(response, *statuses, field=field, index=index)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()
