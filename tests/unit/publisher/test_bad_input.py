"""Regressions found by the fuzz tier (tests/fuzz): each was a 500, or bad input that was stored."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.publisher.app import create_app
from services.publisher.auth import sha256_hex
from services.publisher.errors import TargetRefused
from services.publisher.event_log import MemoryEventLog
from services.publisher.settings import PublisherSettings
from services.publisher.ssrf import TargetGuard
from services.publisher.subscription_log import MemorySubscriptionLog
from services.publisher.subscriptions import MemorySubscriptionStore
from tests.support.pipeline import free_port

TOKEN = "unit-admin-token"


@pytest.fixture
def store() -> MemorySubscriptionStore:
    return MemorySubscriptionStore()


def publisher(store: MemorySubscriptionStore, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    settings = PublisherSettings(admin_token_sha256=sha256_hex(TOKEN), consume=False, dispatch=False,
                                 public_topic_enabled=False)
    app = create_app(settings, event_log=MemoryEventLog(), store=store, sub_log=MemorySubscriptionLog())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
                             base_url="http://publisher", headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
async def client(store):
    async with publisher(store) as c:
        yield c


@pytest.mark.parametrize("url", [
    "http://[::1", "http://8.8.8.8:99999/", "http://example.org:abc/", "http://a..b/", "http://" + "a" * 64 + ".org/",
])
async def test_urls_that_do_not_parse_or_encode_are_refused_not_raised(url):
    # Each fails before any lookup: urlsplit or the port refuse it, or the IDNA codec refuses the name.
    with pytest.raises(TargetRefused, match="webhook (URL|host)"):
        await TargetGuard().check(url)


async def test_nan_in_a_subscription_body_is_422_without_echoing_it(client, store):
    response = await client.post("/v1/subscriptions", content=b'{"url": NaN}', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"field": "url", "reason": "Input should be a valid string"}]
    assert store.subs == {}


@pytest.mark.parametrize("position", ["abc", "1-", "99999999999999999999-0", "١٢٣-0", "1\n"])
async def test_a_start_position_that_is_not_a_stream_id_is_refused(client, store, position):
    response = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook", "from_position": position})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "from_position"
    assert store.subs == {}


async def test_a_valid_start_position_is_kept_as_the_cursor(client, store):
    response = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook", "from_position": "1718000000000-3"})
    assert response.status_code == 201 and response.json()["cursor"] == "1718000000000-3"


@pytest.mark.parametrize("limit", ["0", "-5", "100001", "99999999999999999999"])
async def test_dead_letter_limits_out_of_range_are_refused(client, limit):
    sub = (await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook"})).json()
    response = await client.get(f"/v1/subscriptions/{sub['id']}/failed", params={"limit": limit})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.limit"


@pytest.mark.parametrize("position", ["١٢٣", "12345678901234567890-0", "1-2-3"])
async def test_last_event_ids_that_are_not_stream_ids_are_422(client, position):
    async with asyncio.timeout(30):  # not a time limit under test: accepting one would open an endless stream
        response = await client.get("/v1/stream", params={"last_event_id": position})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "query.last_event_id" and "event-log position" in error["reason"]


async def test_an_oversized_body_is_413_declared_or_streamed_and_nothing_is_stored(client, store):
    big = b'{"url": "https://8.8.8.8/hook", "description": "' + b"x" * 70_000 + b'"}'
    declared = await client.post("/v1/subscriptions", content=big, headers={"Content-Type": "application/json"})

    async def chunks():
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    streamed = await client.post("/v1/subscriptions", content=chunks(), headers={"Content-Type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["detail"] == "request body exceeds 65536 bytes" and response.json()["status"] == 413
    assert store.subs == {}


@pytest.mark.parametrize("body", [{"url": "https://8.8.8.8/" + "a" * 2100},
                                  {"url": "https://8.8.8.8/hook", "description": "d" * 1001}])
async def test_overlong_subscription_fields_are_422(client, store, body):
    response = await client.post("/v1/subscriptions", json=body)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] in ("url", "description")
    assert store.subs == {}


async def test_the_league_list_names_every_league_a_methodology_version_scores():
    from shared.methodology import VERSIONS, get_methodology
    from tests.fuzz.support import build_publisher

    app, _, _ = build_publisher()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://publisher") as c:
        listed = {row["league"] for row in (await c.get("/v1/leagues")).json()["leagues"]}
    assert listed >= {league for v in VERSIONS for league in get_methodology(v).leagues}
    assert "icb" in listed


@pytest.mark.parametrize("filters", [{"trust_codes": [f"R{i:04d}" for i in range(501)]},
                                     {"regions": ["x" * 101]}])
async def test_overlong_filter_lists_and_items_are_422_naming_the_filter(client, store, filters):
    response = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook", "filters": filters})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith(f"filters.{next(iter(filters))}")
    assert store.subs == {}


async def test_an_overlong_stream_filter_is_422_naming_the_filter(client):
    async with asyncio.timeout(30):  # a stream that opened would never end
        response = await client.get("/v1/stream", params={"trust_code": ",".join(f"R{i:04d}" for i in range(501))})
    assert response.status_code == 422 and "trust_code" in response.json()["errors"][0]["field"], response.text


@pytest.mark.parametrize("path", ["/v1/leagues", "/v1/leagues/acute", "/v1/trusts/RXX"])
async def test_read_routes_answer_503_with_retry_after_while_redis_does_not_answer(path, monkeypatch):
    monkeypatch.setenv("NOF_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    async with publisher(MemorySubscriptionStore()) as c:
        response = await c.get(path)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["type"] == "urn:nof-live:problem:unavailable" and "ConnectionError" in response.json()["detail"]


async def test_an_unexpected_error_is_a_problem_too(store, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "all", broken)
    async with publisher(store, raise_app_exceptions=False) as c:  # the server would log the traceback
        response = await c.get("/v1/subscriptions")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500 and "a bug" not in response.text
