"""One fault per test, injected mid-stream into a full pipeline with three subscribers (SSE, a webhook
receiver, the public Kafka topic). After each, tests/faults/harness.py checks that nothing accepted was
lost, that the tables equal the batch result and that every subscriber got every change event at least
once, duplicates only under the same id with the same payload."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.support.subscribers import poll

# While a fault is injected, a client in this process can be left with a socket that is dropped without
# being closed (seen in the scorer-SIGKILL and broker-stop runs, reported by the garbage collector at a
# random later moment; the client was not identified). Only that report is ignored in this module; every
# other unraisable exception still fails the test.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning",
    r"ignore:unclosed <socket\.socket:ResourceWarning")


def restart(run, service: str) -> float:
    """SIGKILL a service and start it again a second later; returns the seconds until it was healthy again."""
    killed = time.monotonic()
    run.pipeline.kill(service, signal.SIGKILL)
    time.sleep(1.0)
    run.pipeline.start(service)
    return time.monotonic() - killed


def test_scorer_sigkill_mid_stream(fault_run):
    run = fault_run("scorer SIGKILL", seed=41)
    run.send()
    at = run.wait_accepted(0.35)
    down = restart(run, "scoring")
    problems = run.verify(f"SIGKILL scoring at {at}/{len(run.items)} accepted; healthy again in {down:.0f} s")
    assert problems == [], "\n".join(problems)


def test_publisher_sigkill_mid_stream(fault_run):
    run = fault_run("publisher SIGKILL", seed=42)
    run.send(warm_up=50)
    at = run.wait_accepted(0.35)
    before = {"sse": run.sse.copies.total, "webhook": run.receiver.copies.total}
    down = restart(run, "publisher")
    problems = run.verify(f"SIGKILL publisher at {at}/{len(run.items)} accepted; healthy again in {down:.0f} s")
    run.row.notes.append(f"at the kill the SSE client had {before['sse']} events and the webhook {before['webhook']}; "
                         f"the SSE client resumed with Last-Event-ID after {run.sse.connections - 1} reconnection(s)")
    assert problems == [], "\n".join(problems)
    assert run.sse.connections >= 2, "the SSE client never had to reconnect: the kill missed it"


def test_broker_stopped_mid_stream(fault_run, private_broker):
    run = fault_run("broker stop", seed=43, pace_s=0.15)
    run.send()
    at = run.wait_accepted(0.25)
    stopped = time.monotonic()
    private_broker.stop()
    stop_s = time.monotonic() - stopped
    try:
        # The client keeps sending: ingest must refuse with 503 and a Retry-After, and say so on /healthz.
        assert poll(lambda: len(run.sender.refusals) > 0, 60, every=0.1), \
            f"ingest accepted everything while Kafka was down ({run.sender.count} accepted)"
        refused_s = time.monotonic() - stopped
        health = httpx.get(f"{run.pipeline.url('ingest')}/healthz", timeout=30).status_code
        time.sleep(max(0.0, 5.0 - (time.monotonic() - stopped)))
    finally:
        down = time.monotonic() - stopped
        private_broker.start()
    print(f"broker: stop took {stop_s:.1f} s, first 503 after {refused_s:.1f} s, start took "
          f"{time.monotonic() - stopped - down:.1f} s")
    run.sender.pace_s = 0.02  # the outage is over: send the rest at full speed
    problems = run.verify(f"broker stopped at {at}/{len(run.items)} accepted for {down:.0f} s, then started")
    refusals = list(run.sender.refusals)
    run.row.notes.append(f"ingest answered 503 {len(refusals)} times (Retry-After {sorted(set(refusals))}) until "
                         f"the broker was back; /healthz answered {health} meanwhile")
    assert health == 503
    assert all(r is not None and int(r) > 0 for r in refusals), f"a 503 without a usable Retry-After: {refusals}"
    assert problems == [], "\n".join(problems)


#: Delete every key matching a pattern in one script, so no service sees (or writes into) a half-flushed Redis.
FLUSH_PREFIX = """
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 5000 do
  redis.call('DEL', unpack(keys, i, math.min(i + 4999, #keys)))
end
return #keys
"""


def test_redis_flushed_mid_stream(fault_run):
    """Every key of the pipeline's Redis prefix is deleted mid-stream: the scorer rewrites the read model,
    and the publisher notices that its state is gone and restores it from Kafka (docs/PUBLISHER.md,
    "Losing Redis"): the subscription from the subscriptions topic, the event log from nof.changes.v1. Every
    subscriber, the webhook receiver included, is owed every change event (duplicates with the same id)."""
    run = fault_run("Redis flush", seed=44)
    run.send(warm_up=50)
    at = run.wait_accepted(0.4)
    p = run.pipeline
    deleted = p.redis.eval(FLUSH_PREFIX, 0, f"{p.namespace}:*")  # at once, as FLUSHDB would
    assert deleted > 0

    def restored() -> bool:
        r = httpx.get(f"{p.url('publisher')}/v1/subscriptions", headers=run.admin, timeout=10)
        return r.status_code == 200 and [s["id"] for s in r.json()] == [run.subscription["id"]]

    assert poll(restored, 60, every=0.2), "the webhook subscription was not restored after the flush"
    problems = run.verify(f"deleted all {deleted} keys of the pipeline's Redis prefix at {at}/{len(run.items)} accepted")
    assert problems == [], "\n".join(problems)


def test_webhook_receiver_fails_then_recovers(fault_run):
    run = fault_run("webhook receiver 500s", seed=45)
    run.send()
    at = run.wait_accepted(0.3)
    run.receiver.fail(True)
    failing = time.monotonic()
    time.sleep(6.0)
    run.receiver.fail(False)
    refused = run.receiver.refused
    problems = run.verify(
        f"receiver answered 500 for {time.monotonic() - failing:.0f} s from {at}/{len(run.items)} accepted",
        notes=[f"{refused} delivery attempts were refused with 500 and retried with backoff"])
    assert refused > 1, "no delivery was attempted while the receiver failed"
    assert problems == [], "\n".join(problems)
