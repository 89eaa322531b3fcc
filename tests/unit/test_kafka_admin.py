"""The admin step creates topics with the replication settings (a fake admin client records the request)."""

from __future__ import annotations

import pytest

from shared import kafka_admin
from shared.settings import KafkaSettings
from shared.topics import CHANGES, PUBLISHER_SUBSCRIPTIONS


class FakeAdmin:
    def __init__(self) -> None:
        self.created: list = []
        self.altered: list = []

    def list_topics(self) -> list[str]:
        return []

    def create_topics(self, topics, timeout_ms=None) -> None:  # noqa: ANN001
        self.created += topics

    def close(self) -> None:
        return None


@pytest.fixture
def admin(monkeypatch) -> FakeAdmin:
    fake = FakeAdmin()
    monkeypatch.setattr(kafka_admin, "admin_client", lambda settings: fake)
    return fake


def test_topics_are_created_with_the_configured_replication(admin):
    settings = KafkaSettings(replication_factor=3, min_insync_replicas=2)
    actions = kafka_admin.declare(settings, (CHANGES, PUBLISHER_SUBSCRIPTIONS))
    assert len(actions) == 2
    for topic in admin.created:
        assert topic.replication_factor == 3
        assert topic.topic_configs["min.insync.replicas"] == "2"
    assert admin.created[1].topic_configs["cleanup.policy"] == "compact"  # the registry's own config stays


def test_the_defaults_suit_a_single_local_broker(admin):
    kafka_admin.declare(KafkaSettings(), (CHANGES,))
    (topic,) = admin.created
    assert topic.replication_factor == 1 and topic.topic_configs["min.insync.replicas"] == "1"
