"""Publisher integration fixtures: a unique Redis key prefix per test, cleaned up afterwards."""

from __future__ import annotations

import uuid

import pytest

from shared.kafka_admin import declare
from shared.league_cache import LeagueCache
from shared import redis_store
from shared.settings import RedisSettings
from shared.topics import PUBLISHER_SUBSCRIPTIONS
from tests.integration.publisher.publisher_live import drop_prefix


@pytest.fixture(scope="session", autouse=True)
def subscriptions_topic(kafka_settings) -> None:
    """Subscriptions are recorded in their topic first; a stack declared before it existed lacks it."""
    declare(kafka_settings, (PUBLISHER_SUBSCRIPTIONS,))


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
