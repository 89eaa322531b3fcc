"""The one registry of Kafka topics: versioned names, keys, partitions, retention, compaction, dead letters.

Every topic the system uses is declared here and created by the admin step (`nof topics declare`);
the broker never auto-creates topics. Partition counts are explicit because faust tables need their
changelog topics co-partitioned with the topics that feed them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.settings import CommonSettings

#: Read once at import: an isolated pipeline (a test run, a second environment on one cluster)
#: sets NOF_TOPIC_NAMESPACE and every name below, the scorer's group and changelogs included, moves with it.
NAMESPACE = CommonSettings().topic_namespace


def namespaced(name: str) -> str:
    return f"{NAMESPACE}.{name}" if NAMESPACE else name


DAY_MS = 24 * 60 * 60 * 1000

#: Input topics share one partition count so the scorer's changelogs line up with all of them.
INPUT_PARTITIONS = 6

#: faust app id of the scoring service; its changelog topic names derive from it.
SCORING_APP_ID = namespaced("nof-scoring-v1")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    value: str
    description: str
    retention_ms: int = 7 * DAY_MS
    compacted: bool = False
    dead_letter: str | None = None
    internal: bool = False  # owned by one service (its state); nothing else writes to it
    extra_config: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(-1 if self.compacted else self.retention_ms),
        }
        if self.compacted:
            cfg["min.cleanable.dirty.ratio"] = "0.1"
            cfg["segment.ms"] = str(DAY_MS)
        cfg.update(self.extra_config)
        return cfg


def _dead_letter(of: str) -> TopicSpec:
    return TopicSpec(
        name=f"{of}.dlq",
        partitions=1,
        key="original key",
        value="DeadLetter (shared.events)",
        description=f"Records from {of} that could not be decoded or validated, with the reason.",
        retention_ms=30 * DAY_MS,
    )


OBSERVATIONS = TopicSpec(
    name=namespaced("nof.observations.v1"),
    partitions=INPUT_PARTITIONS,
    key="league partition key (shared.methodology Methodology.partition_key)",
    value="ObservationReceived",
    description="Accepted metric observations, as published by ingest.",
    retention_ms=30 * DAY_MS,
    dead_letter=namespaced("nof.observations.v1.dlq"),
)

TRUST_STATUS = TopicSpec(
    name=namespaced("nof.trust-status.v1"),
    partitions=INPUT_PARTITIONS,
    key="league partition key",
    value="FinanceStatusChanged | IntensiveSupportChanged | TrustRegistered",
    description="Inputs that move segments without a metric value: finance flags, intensive support, register updates.",
    retention_ms=30 * DAY_MS,
    dead_letter=namespaced("nof.trust-status.v1.dlq"),
)

CHANGES = TopicSpec(
    name=namespaced("nof.changes.v1"),
    partitions=3,
    key="league slug",
    value="LeagueChanged (a batch of assessment/segment/rank changes with causes)",
    description="The scorer's change events, in league version order per league.",
    retention_ms=14 * DAY_MS,
)

PUBLIC_EVENTS = TopicSpec(
    name=namespaced("nof.public-events.v1"),
    partitions=3,
    key="league slug",
    value="CloudEvents 1.0 structured JSON",
    description="The public feed for downstream systems that consume Kafka directly.",
    retention_ms=14 * DAY_MS,
)

# faust names changelogs "<app id>-<table>-changelog"; declaring them keeps partitions and compaction ours.
SCORER_STATE_CHANGELOG = TopicSpec(
    name=f"{SCORING_APP_ID}-league_state-changelog",
    partitions=INPUT_PARTITIONS,
    key="state key (league|obs|trust|metric|period and similar), or ~commit|<input partition>",
    value="the latest input for that key with the ids applied to it; a commit record per input partition",
    description="Changelog of the scorer's state table: restart recovery without replaying history.",
    compacted=True,
    internal=True,
    # A commit record carries its batch's change events (services/scoring/recorder.py).
    extra_config={"max.message.bytes": str(16 * 1024 * 1024)},
)

PUBLISHER_SUBSCRIPTIONS = TopicSpec(
    name=namespaced("nof.publisher-subscriptions.v1"),
    partitions=1,
    key="<publisher Redis key prefix>/<subscription id>",
    value="the webhook subscription JSON (url, filters, description, created_at, sealed secret); null (a tombstone) when deleted",
    description="The publisher's webhook subscriptions: the source of truth its Redis copy is restored from.",
    compacted=True,
    internal=True,
)

TRUSTS = TopicSpec(
    name=namespaced("nof.trusts.v1"),
    partitions=1,
    key="trust code",
    value="TrustRef JSON (code, name, trust_type, subtype, region) with the entry's source",
    description="The trust register every ingest replica reads: seeded from the shipped trusts.csv, updated by "
                "POST /v1/trusts.",
    compacted=True,
    internal=True,
)

TOPICS: tuple[TopicSpec, ...] = (
    OBSERVATIONS,
    _dead_letter(OBSERVATIONS.name),
    TRUST_STATUS,
    _dead_letter(TRUST_STATUS.name),
    CHANGES,
    PUBLIC_EVENTS,
    SCORER_STATE_CHANGELOG,
    PUBLISHER_SUBSCRIPTIONS,
    TRUSTS,
)

BY_NAME = {t.name: t for t in TOPICS}

#: The publisher's consumer group on nof.changes.v1 (its committed offsets say what its event log holds).
PUBLISHER_GROUP = namespaced("nof-publisher-v1")

#: Consumer groups that must always hold a committed offset on every partition they read. A faust
#: worker that restarts into a group with no committed offset (its predecessor died before its first
#: commit) can sit idle without consuming; the admin step commits the earliest offset for them first.
ANCHORED_GROUPS: dict[str, tuple[str, ...]] = {SCORING_APP_ID: (OBSERVATIONS.name, TRUST_STATUS.name)}
