"""Integration fixtures: the real broker and Redis, as `make infra` starts them."""

from __future__ import annotations

import gc
import os

import pytest
import redis

from shared.kafka_admin import broker_answers
from shared.settings import CommonSettings


@pytest.fixture(scope="session", autouse=True)
def _named_environment():
    """`make test` runs this tier with NOF_ENVIRONMENT=test; so does any other run, so that the services
    built here may make their local credentials."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("NOF_ENVIRONMENT"):
            mp.setenv("NOF_ENVIRONMENT", "test")
        yield


@pytest.fixture(scope="module", autouse=True)
def _garbage_of_the_module():
    """Collect garbage as each module ends, so that a connection a module left open is reported (as a
    ResourceWarning, which this suite treats as an error) against that module's last test, not against
    whichever later test the collector happens to run in."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def settings() -> CommonSettings:
    return CommonSettings()


@pytest.fixture(scope="session")
def kafka_settings(settings):
    if not broker_answers(settings.kafka):
        pytest.fail(f"no Kafka broker answers at {settings.kafka.bootstrap_servers}: run `make infra`")
    return settings.kafka


@pytest.fixture
def redis_client(settings):
    client = redis.Redis.from_url(settings.redis.url)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"no Redis answers at {settings.redis.url}: run `make infra`")
    yield client
    client.close()
