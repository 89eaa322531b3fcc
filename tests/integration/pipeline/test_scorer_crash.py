"""SIGKILL the scorer mid-stream and flush Redis: nothing is lost, nothing is emitted twice under a new id."""

from __future__ import annotations

import threading
import time

import httpx

from tests.integration.pipeline.helpers import change_events, fold, fold_mismatches, send, wait_for_tables
from tests.support.crash_free import crash_free_events, emitted_versions
from tests.support.streams import M, expected, generate


def test_sigkill_mid_stream_then_restart_loses_nothing(pipeline):
    items = generate(seed=21, n=1500, observations_only=True)
    sender = threading.Thread(target=send, args=(pipeline, items), kwargs={"batch": 10})
    sender.start()
    time.sleep(2.0)
    pipeline.kill("scoring")  # SIGKILL: no shutdown, no final commit, buffers lost
    time.sleep(1.0)
    pipeline.start("scoring")
    sender.join(timeout=180)
    assert not sender.is_alive()

    results = expected(items)
    diff = wait_for_tables(pipeline, results)
    assert diff == [], "\n".join(diff)
    events = change_events(pipeline)
    copies: dict[str, object] = {}
    for e in events:
        assert copies.setdefault(e.event_id, e) == e, f"a re-sent event changed content: {e.event_id}"
    inputs = [r for name in ("nof.observations.v1", "nof.trust-status.v1") for r in pipeline.read_topic(name)]
    reference = crash_free_events(M, inputs, emitted_versions(events))
    assert set(copies) == set(reference), "events were lost or invented across the crash"
    assert fold_mismatches(fold(events), results) == []


def test_redis_flushed_mid_run_comes_back_complete_without_resending(pipeline):
    items = generate(seed=21, n=1500, observations_only=True)
    results = expected(items)
    assert wait_for_tables(pipeline, results) == []
    deleted = 0
    for key in pipeline.redis.scan_iter(f"{pipeline.namespace}:*", count=1000):
        deleted += pipeline.redis.delete(key)
    assert deleted > 0 and pipeline.league("ambulance") is None
    assert wait_for_tables(pipeline, results, timeout=30) == []
    code = results.leagues["ambulance"].entries[0].trust_code
    assert pipeline.redis.get(f"{pipeline.namespace}:trust:{code}") is not None, "explanations were not rebuilt"


def test_scoring_exposes_processing_latency_and_lag(pipeline):
    text = httpx.get(f"{pipeline.url('scoring')}/metrics", timeout=5).text
    count = [line for line in text.splitlines() if line.startswith("nof_scoring_processing_latency_seconds_count")]
    assert count and float(count[0].split()[-1]) > 0
    assert "nof_scoring_consumer_lag{" in text
    assert 'nof_scoring_change_events_total{type="rank.changed"}' in text
