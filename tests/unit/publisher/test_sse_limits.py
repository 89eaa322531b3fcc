"""SSE connections are capped in total and per client address; a refused client is told when to retry."""

from __future__ import annotations

import asyncio

import httpx

from services.publisher.app import create_app
from services.publisher.auth import sha256_hex
from services.publisher.event_log import MemoryEventLog
from services.publisher.settings import PublisherSettings
from services.publisher.sse_limits import ConnectionLimits
from services.publisher.subscription_log import MemorySubscriptionLog
from services.publisher.subscriptions import MemorySubscriptionStore


def test_limits_count_per_address_and_in_total():
    limits = ConnectionLimits(total=3, per_address=2)
    assert limits.admit("10.0.0.1") is None and limits.admit("10.0.0.1") is None
    assert "per client address" in limits.admit("10.0.0.1")
    assert limits.admit("10.0.0.2") is None
    assert "at most 3 event streams" in limits.admit("10.0.0.3")
    limits.leave("10.0.0.1")
    assert limits.admit("10.0.0.3") is None
    assert limits.open == {"10.0.0.1": 1, "10.0.0.2": 1, "10.0.0.3": 1}


async def test_a_release_counts_once_however_often_it_is_called():
    limits = ConnectionLimits(total=10, per_address=2)
    assert limits.admit("10.0.0.1") is None and limits.admit("10.0.0.1") is None
    release = limits.releaser("10.0.0.1")
    await release()
    await release()  # the stream ended, then the response's background task ran too
    assert limits.open == {"10.0.0.1": 1}


async def test_a_client_over_its_address_cap_gets_429_with_retry_after(tmp_path):
    settings = PublisherSettings(admin_token_sha256=sha256_hex("t"), consume=False, dispatch=False,
                                 public_topic_enabled=False, sse_max_clients_per_address=2)
    settings.common.local_dir = tmp_path
    app = create_app(settings, event_log=MemoryEventLog(), store=MemorySubscriptionStore(),
                     sub_log=MemorySubscriptionLog())
    limits = app.state.runtime.sse_limits
    limits.open["127.0.0.1"] = 2  # two streams already open from this address
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
                                 base_url="http://publisher") as client:
        async with asyncio.timeout(30):  # an admitted stream would never end
            response = await client.get("/v1/stream")
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert "per client address" in response.json()["detail"]
    assert limits.open["127.0.0.1"] == 2  # the refused one was not counted
