"""Redis adapter: one async client per process, opened in the service's lifespan."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.settings import RedisSettings


#: Redis did not answer (down, unreachable, still loading, too slow): a request that needed it gets a 503.
UNANSWERED: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


def connect(settings: RedisSettings) -> aioredis.Redis:
    return aioredis.from_url(settings.url, decode_responses=False, health_check_interval=30,
                             socket_timeout=settings.timeout_s, socket_connect_timeout=settings.timeout_s)


async def answers(client: aioredis.Redis) -> bool:
    return bool(await client.ping())
