"""Every declared topic exists as the registry says and carries a record with the project's producer."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaConsumer, TopicPartition

from shared.kafka_admin import admin_client, declare, describe
from shared.kafka_producer import make_producer
from shared.topics import TOPICS


def test_declare_is_idempotent_and_configs_match_the_registry(kafka_settings):
    declare(kafka_settings)
    assert declare(kafka_settings) == []
    admin = admin_client(kafka_settings)
    try:
        live = describe(admin, [t.name for t in TOPICS])
    finally:
        admin.close()
    for spec in TOPICS:
        assert spec.name in live, f"{spec.name} was not created"
        assert live[spec.name].partitions == spec.partitions
        for key, value in spec.config().items():
            assert live[spec.name].config.get(key) == value, (spec.name, key)


@pytest.mark.parametrize("topic", [t.name for t in TOPICS if not t.internal])
def test_a_record_round_trips_through_every_topic(kafka_settings, topic):
    producer = make_producer(kafka_settings, "it-roundtrip")
    key, value = f"it-{uuid.uuid4().hex}".encode(), uuid.uuid4().bytes
    try:
        meta = producer.send(topic, key=key, value=value).get(timeout=15)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_settings.bootstrap_list, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        records = consumer.poll(timeout_ms=10_000, max_records=1).get(tp, [])
    finally:
        consumer.close()
    assert [(r.key, r.value) for r in records] == [(key, value)]
