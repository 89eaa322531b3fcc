"""How far the scorer has got through each input partition: what a stall is measured with.

A partition stalls when the scorer stops applying its records while some wait. ``unapplied`` says, per
input partition, how many records the scorer has not applied yet. The scorer's consumer group commits the
offsets faust has handed to the agent, which may run past records the scorer skipped; the applied offsets
it records in its changelog are what it has actually applied. So the larger gap of the two counts.
"""

from __future__ import annotations

import json

from kafka import KafkaAdminClient, KafkaConsumer

from services.scoring.state import applied_offsets
from shared.topic_reader import partitions, read_to_end
from tests.support.pipeline import Pipeline

INPUT_TOPICS = ("nof.observations.v1", "nof.trust-status.v1")
SCORER_GROUP = "nof-scoring-v1"
SCORER_CHANGELOG = "nof-scoring-v1-league_inputs-changelog"


def unapplied(pipeline: Pipeline) -> dict[str, int]:
    """Per input partition (``topic:partition``, without the namespace), records not yet applied by the scorer."""
    consumer = KafkaConsumer(bootstrap_servers=[pipeline.bootstrap], enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=[pipeline.bootstrap], request_timeout_ms=15_000)
    try:
        parts = [tp for name in INPUT_TOPICS for tp in partitions(consumer, pipeline.topic(name))]
        end = consumer.end_offsets(parts)
        group = pipeline.topic(SCORER_GROUP)
        committed = admin.list_group_offsets({group: parts})[group]
        changelog = read_to_end(consumer, partitions(consumer, pipeline.topic(SCORER_CHANGELOG)), timeout_s=60)
        applied = applied_offsets((json.loads(r.key), r.value) for r in changelog)
    finally:
        admin.close()
        consumer.close()
    gaps = {}
    for tp in parts:
        group_at = committed[tp].offset if tp in committed else 0
        applied_to = applied.get((tp.topic, tp.partition), -1) + 1
        gaps[f"{tp.topic.removeprefix(pipeline.namespace + '.')}:{tp.partition}"] = end[tp] - min(group_at, applied_to)
    return gaps

