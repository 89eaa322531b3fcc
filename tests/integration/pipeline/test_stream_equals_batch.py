"""Through the real pipeline, a messy stream ends where the batch methodology does, and the change
events replay to the same tables."""

from __future__ import annotations

from collections import Counter

from tests.integration.pipeline.helpers import change_events, fold, fold_mismatches, send, wait_for_tables
from tests.support.streams import expected, generate


def test_generated_stream_matches_batch_and_events_replay_to_it(pipeline):
    items = generate(seed=11, n=500)
    kinds = Counter(i.kind for i in items)
    assert kinds["fin"] > 10 and kinds["obs"] > 400
    send(pipeline, items)
    results = expected(items)
    assert wait_for_tables(pipeline, results) == []

    events = change_events(pipeline)
    assert events, "no change events were emitted"
    by_id = {}
    for e in events:
        assert by_id.setdefault(e.event_id, e) == e, f"two different events share the id {e.event_id}"
    assert fold_mismatches(fold(events), results) == []
    caused_by_others = [e for e in events if not e.cause.own_data]
    assert caused_by_others, "peers' data must move other trusts (METHODOLOGY §8)"
    assert all(e.cause.trust_code != e.trust_code for e in caused_by_others)


def test_a_duplicated_stream_adds_no_events(pipeline):
    items = generate(seed=11, n=500)
    before = len(change_events(pipeline))
    send(pipeline, [i for i in items if i.kind == "obs"])
    assert wait_for_tables(pipeline, expected(items)) == []
    assert len(change_events(pipeline)) == before


def test_poison_records_are_dead_lettered_and_the_worker_goes_on(pipeline):
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=[pipeline.bootstrap])
    producer.send(pipeline.topic("nof.observations.v1"), key=b"ambulance", value=b"{not json")
    producer.send(pipeline.topic("nof.observations.v1"), key=b"ambulance",
                  value=b'{"type": "observation.received", "observation_id": "x"}')
    producer.flush()
    producer.close()
    import time

    deadline = time.monotonic() + 30
    letters = []
    while time.monotonic() < deadline and len(letters) < 2:
        letters = pipeline.read_topic("nof.observations.v1.dlq")
        time.sleep(0.5)
    import json

    reasons = [json.loads(r.value)["reason"] for r in letters]
    assert len(reasons) == 2 and all(r.startswith("undecodable") for r in reasons)
    items = generate(seed=12, n=60)
    send(pipeline, items)
    assert wait_for_tables(pipeline, expected(generate(seed=11, n=500) + items)) == []
