"""HTTP adapter for webhook POSTs (aiohttp: ~25x less CPU per request than httpx, see docs/PUBLISHER.md).

``post`` answers the status code, or None with the reason when no answer came; redirects are not followed
(a redirect could lead past the target guard), and transport errors are translated here, at the boundary.
Names are resolved by the target guard's resolver (ssrf.py), so every connection is checked where it is
made. Only the status matters: at most ``MAX_ANSWER_BYTES`` of a receiver's answer are read, the rest is
dropped with the connection.
"""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp.abc import AbstractResolver

from services.publisher.ssrf import GuardedResolver, TargetGuard

MAX_ANSWER_BYTES = 64 * 1024


class WebhookClient:
    def __init__(self, timeout_seconds: float = 5.0, guard: TargetGuard | None = None,
                 resolver: AbstractResolver | None = None) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.guard = guard or TargetGuard()
        self.resolver = resolver  # what the guard's resolver asks (tests stand in a fake one)
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> "WebhookClient":
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=60, enable_cleanup_closed=True,
                                         resolver=GuardedResolver(self.guard, self.resolver))
        self.session = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                             headers={"User-Agent": "nof-live-publisher/1"})
        return self

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        assert self.session is not None, "WebhookClient.open() first (in the app lifespan)"
        try:
            async with self.session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                read = 0
                while read < MAX_ANSWER_BYTES and (chunk := await response.content.read(MAX_ANSWER_BYTES - read)):
                    read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    response.close()  # the rest is not wanted: drop the connection rather than drain it
                return response.status, ""
        except asyncio.TimeoutError:
            return None, f"timed out after {self.timeout.total} s"
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}"
