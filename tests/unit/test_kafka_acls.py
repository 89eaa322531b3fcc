"""The broker policy: one principal per service, exactly its topics and groups, secrets readable by one."""

from __future__ import annotations

from kafka.admin import ACLOperation, ACLPermissionType, ResourceType

from shared.kafka_acls import ADMIN, GRANTS, PRINCIPALS, acls
from shared.topics import (CHANGES, OBSERVATIONS, PUBLIC_EVENTS, PUBLISHER_GROUP, PUBLISHER_SUBSCRIPTIONS,
                           SCORING_APP_ID, TOPICS, TRUST_STATUS)


def allowed(operation: str, name: str) -> set[str]:
    """Principals allowed ``operation`` on the topic or group ``name``."""
    return {a.principal.removeprefix("User:") for a in acls()
            if a.resource_pattern.resource_name == name and a.operation is ACLOperation[operation]}


def test_the_subscriptions_topic_is_read_and_written_by_the_publisher_alone():
    assert allowed("READ", PUBLISHER_SUBSCRIPTIONS.name) == {"publisher"}
    assert allowed("WRITE", PUBLISHER_SUBSCRIPTIONS.name) == {"publisher"}


def test_each_topic_has_exactly_its_writers_and_readers():
    assert allowed("WRITE", OBSERVATIONS.name) == allowed("WRITE", TRUST_STATUS.name) == {"ingest"}
    assert allowed("READ", OBSERVATIONS.name) == allowed("READ", TRUST_STATUS.name) == {"scoring"}
    assert allowed("WRITE", CHANGES.name) == {"scoring"}
    assert allowed("READ", CHANGES.name) == {"publisher"}
    assert allowed("WRITE", PUBLIC_EVENTS.name) == {"publisher"}
    assert allowed("READ", PUBLIC_EVENTS.name) == set()  # downstream readers get their own principals
    assert allowed("READ", SCORING_APP_ID) == {"scoring"}
    assert allowed("READ", PUBLISHER_GROUP) == {"publisher"}


def test_every_declared_topic_is_covered_and_nothing_else_is_granted():
    declared = {t.name for t in TOPICS}
    groups = {SCORING_APP_ID, PUBLISHER_GROUP}
    for acl in acls():
        assert acl.permission_type is ACLPermissionType.ALLOW and acl.host == "*"
        pattern = acl.resource_pattern
        if pattern.resource_type is ResourceType.TOPIC:
            assert pattern.resource_name in declared, pattern
        else:
            assert pattern.resource_type is ResourceType.GROUP and pattern.resource_name in groups, pattern
    written = {a.resource_pattern.resource_name for a in acls() if a.operation is ACLOperation.WRITE}
    assert declared <= written, declared - written  # every topic has a writer


def test_no_service_runs_as_the_admin_principal():
    assert PRINCIPALS[0] == ADMIN and ADMIN not in GRANTS
    assert set(GRANTS) == {"ingest", "scoring", "publisher"}
