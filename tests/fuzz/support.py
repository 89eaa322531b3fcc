"""The fuzz tier's apps, twins and contracts.

Both services run in-process over their in-memory twins: ingest over MemoryInputSink, the publisher over
MemoryEventLog, MemorySubscriptionStore, MemorySubscriptionLog, an in-memory league read model and a target guard that never
resolves a name over the network. Nothing here needs Kafka, Redis or DNS.

The contracts every answer to bad input must meet:

- ingest (shared/http.py, shared/errors.py): a 4xx with a JSON body ``{"error": <code>, "message": <text>}``;
  422 also lists ``errors``, each naming a ``field`` and a ``reason`` (and the batch ``index`` where one applies);
  401 carries ``WWW-Authenticate: Bearer``.
- publisher (services/publisher/errors.py, docs/PUBLISHER.md): a 4xx with ``{"detail": <text>}``, or for a
  request that fails validation ``{"detail": [{"loc": [...], "msg": <text>, "type": <text>}]}`` where ``loc``
  names where (body, query, header, path) and which field.
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
            ApiKey(name="writer", sha256=hash_key(WRITER), scopes={"observations:write", "status:write", "trusts:write"}),
            ApiKey(name="status-only", sha256=hash_key(STATUS_ONLY), scopes={"status:write"}),
        ],
    )


def build_ingest():  # noqa: ANN201 - (FastAPI app, MemoryInputSink)
    sink = MemoryInputSink()
    return create_ingest(ingest_settings(), sink=sink), sink


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

INGEST_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large", 422: "validation_failed"}


def describe(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:500]!r}"


def ingest_rejection(response: httpx.Response, *statuses: int, field: str | None = None,
                     index: int | None = None) -> dict:
    """Assert ``response`` is a clear ingest 4xx (one of ``statuses`` when given); returns the body."""
    status = response.status_code
    assert 400 <= status < 500, describe(response)
    if statuses:
        assert status in statuses, describe(response)
    assert response.headers.get("content-type", "").startswith("application/json"), describe(response)
    body = response.json()
    assert body.get("error") == INGEST_CODES.get(status, body.get("error")), describe(response)
    assert isinstance(body.get("error"), str) and body["error"], describe(response)
    assert isinstance(body.get("message"), str) and body["message"].strip(), describe(response)
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
        wanted = (field, index) if index is not None else field
        got = named if index is not None else [f for f, _ in named]
        assert wanted in got, f"{field!r} (index {index}) not named: {describe(response)}"
    return body


def publisher_rejection(response: httpx.Response, *statuses: int, loc: tuple | None = None) -> Any:
    """Assert ``response`` is a clear publisher 4xx; ``loc``: a validation error must be at that location."""
    status = response.status_code
    assert 400 <= status < 500, describe(response)
    if statuses:
        assert status in statuses, describe(response)
    assert response.headers.get("content-type", "").startswith("application/json"), describe(response)
    detail = response.json().get("detail")
    if isinstance(detail, list):
        assert status == 422 and detail, describe(response)
        for err in detail:
            assert isinstance(err.get("loc"), list) and err["loc"], describe(response)
            assert err["loc"][0] in ("body", "query", "header", "path"), describe(response)
            assert isinstance(err.get("msg"), str) and err["msg"].strip(), describe(response)
            assert "input" not in err, describe(response)  # rejected input is never echoed back
    else:
        assert isinstance(detail, str) and detail.strip(), describe(response)
    if status == 401:
        assert response.headers.get("www-authenticate") == "Bearer", describe(response)
    if loc is not None:
        assert isinstance(detail, list), describe(response)
        assert any(tuple(err["loc"][: len(loc)]) == tuple(loc) for err in detail), describe(response)
    return detail


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()
