"""Rebuild the Redis read model from the scorer's durable state: its compacted changelog topic.

Works whether or not a scoring worker is running; the scorer does the same by itself when it finds
a league missing from Redis. Versions are the ones the scorer recorded, so readers see no regression.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from kafka import KafkaConsumer, TopicPartition

from services.scoring.scorer import PartitionScorer
from services.scoring.state import group_by_partition_key
from shared.kafka_security import kafka_python_options
from shared.league_cache import LeagueCache
from shared.methodology import Methodology
from shared.settings import KafkaSettings
from shared.topics import SCORER_STATE_CHANGELOG

log = logging.getLogger(__name__)


def read_changelog(settings: KafkaSettings, topic: str = SCORER_STATE_CHANGELOG.name,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, bytes | None]]:
    """Every (key, value) in the changelog from the beginning to its current end; None = deleted."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_list, enable_auto_commit=False,
                             client_id=f"{settings.client_id}-rebuild", **kafka_python_options(settings))
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not parts:
            raise RuntimeError(f"topic {topic} does not exist: has the scorer ever run? (`nof topics declare`)")
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > consumer.position(tp)}
        seen = 0
        while remaining:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for r in records:
                    if r.offset < end[tp]:
                        seen += 1
                        yield json.loads(r.key), r.value
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            if progress:
                progress(seen)
    finally:
        consumer.close()


def latest(items: Iterator[tuple[str, bytes | None]]) -> dict[str, bytes]:
    table: dict[str, bytes] = {}
    for key, value in items:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


async def rebuild_cache(methodology: Methodology, table: dict[str, bytes], cache: LeagueCache) -> dict[str, int]:
    """Write every league and every trust's explanation; returns league → version written."""
    written = {}
    for pk, stored in group_by_partition_key(table.items()).items():
        scorer = PartitionScorer(methodology, pk, stored)
        for league in scorer.leagues():
            snapshot = scorer.snapshot(league)
            await cache.write_league(league, snapshot["version"], snapshot,
                                     scorer.explanations(scorer.members(league)), force=True)
            written[league] = snapshot["version"]
    return written
