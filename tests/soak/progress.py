"""How far the scorer has got through each input partition: what a stall is measured with.

A partition stalls when the scorer stops applying its records while some wait. ``progress`` says, per
input partition, how many records the scorer has not applied yet, from its durable commit records (what
it has made durable, whatever it says about itself), beside the consumer group's committed offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer

from services.scoring.state import durable_table, latest_commits
from shared.topic_reader import partitions, read_to_end
from tests.support.pipeline import Pipeline

INPUT_TOPICS = ("nof.observations.v1", "nof.trust-status.v1")
SCORER_GROUP = "nof-scoring-v1"
SCORER_CHANGELOG = "nof-scoring-v1-league_state-changelog"


@dataclass(frozen=True)
class PartitionProgress:
    end: int  # the partition's end offset
    committed: int  # the scorer's consumer group's committed offset (0: none)
    applied: int  # the next offset to apply, by the scorer's durable commit records

    @property
    def unapplied(self) -> int:
        return self.end - self.applied

    def __str__(self) -> str:
        return f"{self.unapplied} records not applied (end {self.end}, group committed {self.committed}, " \
               f"scorer applied up to {self.applied})"


def progress(pipeline: Pipeline) -> dict[str, PartitionProgress]:
    """Per input partition (``topic:partition``, without the namespace), how far the scorer has got."""
    consumer = KafkaConsumer(bootstrap_servers=[pipeline.bootstrap], enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=[pipeline.bootstrap], request_timeout_ms=15_000)
    try:
        parts = [tp for name in INPUT_TOPICS for tp in partitions(consumer, pipeline.topic(name))]
        end = consumer.end_offsets(parts)
        group = pipeline.topic(SCORER_GROUP)
        committed = admin.list_group_offsets({group: parts})[group]
        changelog = read_to_end(consumer, partitions(consumer, pipeline.topic(SCORER_CHANGELOG)), timeout_s=60)
        table = durable_table((json.loads(r.key), r.value) for r in changelog)
        applied = {(topic, p): offset for p, c in latest_commits(table.items()).items()
                   for topic, offset in c.offsets.items()}
    finally:
        admin.close()
        consumer.close()
    return {f"{tp.topic.removeprefix(pipeline.namespace + '.')}:{tp.partition}": PartitionProgress(
                end=end[tp], committed=max(0, committed[tp].offset) if tp in committed else 0,
                applied=applied.get((tp.topic, tp.partition), -1) + 1)
            for tp in parts}
