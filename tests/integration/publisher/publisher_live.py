"""Helpers for the publisher's integration tests: a publisher on a spare port, a real webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis.asyncio as aioredis
import uvicorn
from aiohttp import web

from services.publisher.app import create_app
from services.publisher.auth import sha256_hex
from services.publisher.settings import PublisherSettings
from shared.settings import CommonSettings, RedisSettings

TOKEN = "integration-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings_for(prefix: str, local_dir: Path, **overrides) -> PublisherSettings:
    common = CommonSettings(redis=RedisSettings(key_prefix=prefix), local_dir=local_dir, log_json=False)
    base = dict(port=8003, common=common, admin_token_sha256=sha256_hex(TOKEN), webhook_allow_private_targets=True,
                retry_base_seconds=0.05, retry_max_seconds=0.2, retry_max_attempts=3, consume=False,
                public_topic_enabled=False, sse_heartbeat_seconds=5, lease_seconds=3)
    return PublisherSettings(**{**base, **overrides})


@contextlib.asynccontextmanager
async def running(settings: PublisherSettings) -> AsyncIterator[str]:
    """Serve a publisher app on 127.0.0.1 (a spare port) inside this event loop; yield its base URL."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def drop_prefix(url: str, prefix: str) -> None:
    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1: records deliveries per path and answers as told."""

    deliveries: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fail_first: dict[str, int] = field(default_factory=dict)  # path → fail this many attempts (500)
    always_fail: set[str] = field(default_factory=set)
    delay: dict[str, float] = field(default_factory=dict)
    base: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        body = await request.read()
        self.attempts[path] += 1
        if path in self.delay:
            await asyncio.sleep(self.delay[path])
        if path in self.always_fail or self.attempts[path] <= self.fail_first.get(path, 0):
            return web.Response(status=500, text="not now")
        self.deliveries[path].append(Delivery(path, dict(request.headers), body))
        self.arrived.set()
        return web.Response(status=204)

    def url(self, path: str) -> str:
        return self.base + path

    async def wait_for(self, path: str, count: int, timeout: float = 15) -> list[Delivery]:
        async def until() -> None:
            while len(self.deliveries[path]) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(until(), timeout)
        return self.deliveries[path]


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", r.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    r.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        yield r
    finally:
        await runner.cleanup()


async def sse_events(client: httpx.AsyncClient, url: str, *, headers: dict | None = None, count: int,
                     timeout: float = 10, keep_comments: bool = False) -> list[dict]:
    """Read ``count`` SSE messages (or until the server ends the stream) as dicts of their fields."""
    out: list[dict] = []

    async def read() -> None:
        current: dict = {}
        async with client.stream("GET", url, headers=headers or {}) as response:
            assert response.status_code == 200, await response.aread()
            async for line in response.aiter_lines():
                if line == "":
                    if current:
                        out.append(current)
                        current = {}
                    if len(out) >= count:
                        return
                    continue
                if line.startswith(":"):
                    if keep_comments:
                        current = {"comment": line[1:].strip()}
                    continue
                name, _, value = line.partition(":")
                current[name] = value[1:] if value.startswith(" ") else value
    await asyncio.wait_for(read(), timeout)
    return out


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"
