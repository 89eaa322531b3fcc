"""The webhook client checks addresses where it connects, and reads no more of an answer than it needs.

A loopback receiver stands in for an internal service; a fake resolver plays a name that answers a
public address to the subscription check and a private one when the delivery connects (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

from services.publisher.ssrf import GuardedResolver, TargetGuard, is_public
from services.publisher.webhook_client import MAX_ANSWER_BYTES, WebhookClient


class Rebinding(AbstractResolver):
    """Answers ``public`` the first time a name is asked, ``private`` every time after."""

    def __init__(self, public: str, private: str) -> None:
        self.public, self.private, self.asked = public, private, 0

    async def resolve(self, host, port=0, family=socket.AF_INET):  # noqa: ANN001, ANN201
        self.asked += 1
        address = self.public if self.asked == 1 else self.private
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


@contextlib.asynccontextmanager
async def receiver(handler) -> AsyncIterator[tuple[int, list[bytes]]]:  # noqa: ANN001
    seen: list[bytes] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(await request.read())
        return await handler(request)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1], seen
    finally:
        await runner.cleanup()


async def no_content(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def test_a_name_rebound_to_a_private_address_is_refused_at_connect_time():
    guard, dns = TargetGuard(), Rebinding("93.184.215.14", "127.0.0.1")
    assert (await dns.resolve("hooks.example"))[0]["host"] == "93.184.215.14"  # what a check beforehand saw
    async with receiver(no_content) as (port, seen):
        client = await WebhookClient(5, guard, resolver=dns).open()
        try:
            status, error = await client.post(f"http://hooks.example:{port}/hook", b"{}", {})
        finally:
            await client.close()
    assert status is None and "resolved to 127.0.0.1 at connect time" in error
    assert seen == []  # nothing reached the internal service


async def test_an_allowed_private_target_is_still_delivered():
    guard = TargetGuard(allow_private=True)
    async with receiver(no_content) as (port, seen):
        client = await WebhookClient(5, guard).open()
        try:
            assert await client.post(f"http://localhost:{port}/hook", b"{}", {}) == (204, "")
        finally:
            await client.close()
    assert seen == [b"{}"]


async def test_a_receiver_that_answers_without_end_costs_at_most_the_cap():
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        chunk = b"x" * 65536
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                await response.write(chunk)
        return response

    async with receiver(endless) as (port, _):
        client = await WebhookClient(20, TargetGuard(allow_private=True)).open()
        try:
            started = time.monotonic()
            status, error = await client.post(f"http://127.0.0.1:{port}/hook", b"{}", {})
            elapsed = time.monotonic() - started
        finally:
            await client.close()
    assert (status, error) == (200, "")
    assert elapsed < 10, f"read the answer for {elapsed:.1f} s; at most {MAX_ANSWER_BYTES} bytes are wanted"


@pytest.mark.parametrize("address", ["2002:7f00:1::1", "2002:a9fe:a9fe::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                                     "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "::7f00:1"])
def test_transition_ranges_that_embed_ipv4_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


async def test_the_guarded_resolver_refuses_a_6to4_answer():
    resolver = GuardedResolver(TargetGuard(), Rebinding("2002:a9fe:a9fe::1", "2002:a9fe:a9fe::1"))
    with pytest.raises(OSError, match="at connect time"):
        await resolver.resolve("hooks.example", 443)
