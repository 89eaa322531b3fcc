"""SIGKILL the scorer mid-stream and flush Redis: nothing is lost, nothing is emitted twice under a new id."""

from __future__ import annotations

import threading
import time

import httpx
import orjson

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
    keys = list(pipeline.redis.scan_iter(f"{pipeline.namespace}:*", count=1000))
    assert pipeline.redis.delete(*keys) == len(keys) > 0  # one command: the scorer sees all of it gone at once
    assert wait_for_tables(pipeline, results, timeout=30) == []
    code = results.leagues["ambulance"].entries[0].trust_code
    assert pipeline.redis.get(f"{pipeline.namespace}:trust:{code}") is not None, "explanations were not rebuilt"


def test_scoring_exposes_processing_latency_and_lag(pipeline):
    text = httpx.get(f"{pipeline.url('scoring')}/metrics", timeout=5).text
    count = [line for line in text.splitlines() if line.startswith("nof_scoring_processing_latency_seconds_count")]
    assert count and float(count[0].split()[-1]) > 0
    assert "nof_scoring_applied_lag{" in text and "nof_scoring_partition_stalled{" in text
    assert 'nof_scoring_change_events_total{type="rank.changed"}' in text


def test_a_group_offset_past_the_durable_state_cannot_skip_inputs(pipeline):
    """The scorer's commit records, not the consumer group, say where a partition resumes: with the group
    moved past records the scorer never applied, a restart still applies every one, without seeking in a
    loop (no repositioning at all)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    before = generate(seed=21, n=1500, observations_only=True)
    after = generate(seed=24, n=300, observations_only=True)
    pipeline.kill("scoring")
    send(pipeline, after, batch=10)
    group = f"{pipeline.namespace}.nof-scoring-v1"
    consumer = KafkaConsumer(bootstrap_servers=pipeline.bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(pipeline.topic(t), p) for t in ("nof.observations.v1", "nof.trust-status.v1")
               for p in range(6)]
        consumer.assign(tps)
        ends = consumer.end_offsets(tps)
        deadline = time.monotonic() + 60  # the killed worker leaves the group after its session timeout
        while True:
            try:
                consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
    finally:
        consumer.close()
    pipeline.start("scoring")
    diff = wait_for_tables(pipeline, expected(before + after))
    assert diff == [], "\n".join(diff)
    text = httpx.get(f"{pipeline.url('scoring')}/metrics", timeout=5).text
    assert "nof_scoring_repositions_total{" not in text, "a partition had to be sought back"
    deadline = time.monotonic() + 15  # the lag is measured on the scorer's first progress check after it starts
    while True:
        health = httpx.get(f"{pipeline.url('scoring')}/healthz", timeout=5).json()
        if health["applied_lag"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert health["checks"]["progress"] == "ok" and set(health["applied_lag"].values()) == {0}


def test_nof_cache_rebuild_rewrites_every_league_from_the_changelog_alone(pipeline):
    """With the worker stopped and Redis emptied, `nof cache rebuild` restores the same tables and
    explanations at the scorer's versions, from the changelog (commit records included)."""
    import subprocess
    import sys

    results = expected(generate(seed=21, n=1500, observations_only=True) + generate(seed=24, n=300,
                                                                                  observations_only=True))
    assert wait_for_tables(pipeline, results) == []
    versions = {k.decode(): int(v) for k, v in pipeline.redis.hgetall(f"{pipeline.namespace}:leagues").items()}
    explanation = pipeline.redis.get(f"{pipeline.namespace}:trust:{results.leagues['ambulance'].entries[0].trust_code}")
    pipeline.kill("scoring")
    for key in pipeline.redis.scan_iter(f"{pipeline.namespace}:*", count=1000):
        pipeline.redis.delete(key)
    done = subprocess.run([sys.executable, "-m", "nof", "cache", "rebuild"], env=pipeline.env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for league, version in versions.items():
        assert f"rebuilt {league}: version {version}" in done.stdout
    assert wait_for_tables(pipeline, results, timeout=5) == []
    rebuilt = pipeline.redis.get(f"{pipeline.namespace}:trust:{results.leagues['ambulance'].entries[0].trust_code}")
    assert orjson.loads(rebuilt) == orjson.loads(explanation)
    pipeline.start("scoring")
