"""HTTP adapter for webhook POSTs (aiohttp: ~25x less CPU per request than httpx, see docs/PUBLISHER.md).

``post`` answers the status code, or None with the reason when no answer came; redirects are not followed
(a redirect could lead past the target guard), and transport errors are translated here, at the boundary.
"""

from __future__ import annotations

import asyncio

import aiohttp


class WebhookClient:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> "WebhookClient":
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=60, enable_cleanup_closed=True)
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
                await response.read()
                return response.status, ""
        except asyncio.TimeoutError:
            return None, f"timed out after {self.timeout.total} s"
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}"
