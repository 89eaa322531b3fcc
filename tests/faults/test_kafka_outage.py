"""Kafka stops mid-stream: ingest answers 503 with Retry-After, accepts again once the broker is back,
and every observation it accepted reaches the league tables."""

from __future__ import annotations

import time

import pytest

from tests.integration.pipeline.helpers import wait_for_tables
from tests.support.broker import PrivateBroker
from tests.support.pipeline import Pipeline
from tests.support.streams import expected, generate


@pytest.fixture
def outage_pipeline(tmp_path):
    broker = PrivateBroker(tmp_path / "broker")
    broker.start()
    pipeline = Pipeline(tmp_path / "pipeline", bootstrap=broker.bootstrap)
    pipeline.declare_topics()
    pipeline.start("ingest")
    pipeline.start("scoring")
    yield pipeline, broker
    pipeline.stop()
    broker.stop()
    for key in pipeline.redis.scan_iter(f"{pipeline.namespace}:*", count=1000):
        pipeline.redis.delete(key)


def test_ingest_refuses_while_kafka_is_down_and_loses_nothing_it_accepted(outage_pipeline):
    pipeline, broker = outage_pipeline
    items = [i for i in generate(seed=31, n=300, observations_only=True)]
    accepted = []
    first, during, after = items[:100], items[100:200], items[200:]
    for batch in (first[i:i + 20] for i in range(0, len(first), 20)):
        response = pipeline.post_observations([i.body for i in batch])
        assert response.status_code == 202, response.text
        accepted += batch

    broker.stop()
    refused = pipeline.post_observations([i.body for i in during[:20]], timeout=60)
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    health = pipeline.url("ingest") + "/healthz"
    import httpx

    assert httpx.get(health, timeout=30).status_code == 503

    broker.start()
    deadline = time.monotonic() + 90
    pending = [during[i:i + 20] for i in range(0, len(during), 20)] + [after[i:i + 20] for i in range(0, len(after), 20)]
    while pending and time.monotonic() < deadline:
        response = pipeline.post_observations([i.body for i in pending[0]], timeout=60)
        if response.status_code == 503:  # the client's side of the contract: retry after the delay
            time.sleep(min(int(response.headers.get("Retry-After", "1")), 2))
            continue
        assert response.status_code == 202, response.text
        accepted += pending.pop(0)
    assert not pending, "ingest did not accept again within 90 s of Kafka's return"
    assert wait_for_tables(pipeline, expected(accepted), timeout=120) == []
