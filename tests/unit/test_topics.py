"""The topic registry keeps the invariants the scorer and the admin step rely on."""

import re

from shared.topics import BY_NAME, INPUT_PARTITIONS, SCORER_STATE_CHANGELOG, TOPICS


def test_every_topic_name_is_versioned_and_unique():
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    for name in names:
        assert re.search(r"v\d+", name), name


def test_every_input_topic_has_a_declared_dead_letter_topic():
    inputs = [t for t in TOPICS if t.dead_letter]
    assert inputs, "the registry declares no input topics"
    for topic in inputs:
        assert topic.dead_letter in BY_NAME, f"{topic.name} names {topic.dead_letter}, which is not declared"


def test_scorer_changelog_is_copartitioned_with_its_inputs():
    for topic in TOPICS:
        if topic.dead_letter:
            assert topic.partitions == INPUT_PARTITIONS == SCORER_STATE_CHANGELOG.partitions


def test_state_topics_are_compacted_and_kept_forever():
    cfg = SCORER_STATE_CHANGELOG.config()
    assert cfg["cleanup.policy"] == "compact"
    assert cfg["retention.ms"] == "-1"
    for topic in TOPICS:
        if not topic.compacted:
            assert topic.config()["cleanup.policy"] == "delete"
            assert int(topic.config()["retention.ms"]) > 0
