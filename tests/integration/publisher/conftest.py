"""Publisher integration fixtures: a unique Redis key prefix per test, cleaned up afterwards."""

from __future__ import annotations

import uuid

import pytest

from shared.league_cache import LeagueCache
from shared import redis_store
from shared.settings import RedisSettings
from tests.integration.publisher.publisher_live import drop_prefix


@pytest.fixture
async def prefix(settings):
    p = f"nof-test-{uuid.uuid4().hex[:12]}"
    yield p
    await drop_prefix(settings.redis.url, p)


@pytest.fixture
async def aredis(settings):
    client = redis_store.connect(RedisSettings(url=settings.redis.url))
    yield client
    await client.aclose()


@pytest.fixture
def cache(aredis, prefix) -> LeagueCache:
    return LeagueCache(aredis, prefix)
