"""Redis adapter: one async client per process, opened in the service's lifespan."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.settings import RedisSettings


def connect(settings: RedisSettings) -> aioredis.Redis:
    return aioredis.from_url(settings.url, decode_responses=False, health_check_interval=30)


async def answers(client: aioredis.Redis) -> bool:
    return bool(await client.ping())
