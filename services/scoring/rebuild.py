"""Rebuild the Redis read model from the scorer's durable state: its compacted changelog topic.

Works whether or not a scoring worker is running; the scorer does the same by itself when it finds
a league missing from Redis. Versions are the ones the scorer recorded, so readers see no regression.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from kafka import KafkaConsumer

from services.scoring.scorer import PartitionScorer
from services.scoring.state import durable_table, group_by_partition_key, latest_commits, partition_for
from shared.kafka_security import kafka_python_options
from shared.league_cache import LeagueCache
from shared.methodology import Methodology
from shared.settings import KafkaSettings
from shared.topic_reader import partitions, read_to_end
from shared.topics import INPUT_PARTITIONS, SCORER_STATE_CHANGELOG

log = logging.getLogger(__name__)


def read_changelog(settings: KafkaSettings, topic: str = SCORER_STATE_CHANGELOG.name,
                   progress: Callable[[int], None] | None = None,
                   timeout_s: float = 600.0) -> Iterator[tuple[str, bytes | None]]:
    """Every (key, value) in the changelog from the beginning to its current end; None = deleted."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_list, enable_auto_commit=False,
                             client_id=f"{settings.client_id}-rebuild", **kafka_python_options(settings),
                             max_partition_fetch_bytes=16 * 1024 * 1024)  # commit records can be large
    try:
        parts = partitions(consumer, topic)
        if not parts:
            raise RuntimeError(f"topic {topic} does not exist: has the scorer ever run? (`nof topics declare`)")
        for r in read_to_end(consumer, parts, timeout_s=timeout_s, progress=progress):
            yield json.loads(r.key), r.value
    finally:
        consumer.close()


def latest(items: Iterator[tuple[str, bytes | None]]) -> dict[str, bytes]:
    """The durable state as a restarted worker recovers it (services/scoring/recorder.py)."""
    table: dict[str, bytes] = {}
    for key, value in items:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return durable_table(table.items())


async def rebuild_cache(methodology: Methodology, table: dict[str, bytes], cache: LeagueCache) -> dict[str, int]:
    """Write every league and every trust's explanation; returns league → version written."""
    written = {}
    commits = latest_commits(table.items())
    for pk, stored in group_by_partition_key(table.items()).items():
        commit = next((c for p, c in commits.items() if p == partition_for(pk, INPUT_PARTITIONS)), None)
        scorer = PartitionScorer(methodology, pk, stored, commit.versions if commit else {})
        for league in scorer.leagues():
            snapshot = scorer.snapshot(league)
            await cache.write_league(league, snapshot["version"], snapshot,
                                     scorer.explanations(scorer.members(league)), force=True)
            written[league] = snapshot["version"]
    return written
