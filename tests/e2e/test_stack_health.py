"""The stack started as `make run` starts it: Kafka, Redis and every service answer their health checks."""

from __future__ import annotations

import httpx
import pytest
import redis

from shared.kafka_admin import broker_answers
from shared.settings import CommonSettings
from tests.e2e.stack import PORTS



def test_kafka_and_redis_answer():
    settings = CommonSettings()
    assert broker_answers(settings.kafka)
    assert redis.Redis.from_url(settings.redis.url).ping()


@pytest.mark.parametrize("service,port", PORTS.items())
def test_service_is_healthy_and_exposes_metrics(service, port):
    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert health.status_code == 200, health.text
    assert health.json()["service"] == service
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert "# TYPE" in metrics.text
