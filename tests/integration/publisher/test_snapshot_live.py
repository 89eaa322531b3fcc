"""A Redis that holds fewer consumed offsets than the consumer group committed is recognised (a restore from
an older snapshot), against the real broker and Redis; one that is level with the group is trusted."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from services.publisher.event_log import RedisEventLog
from services.publisher.recovery import kafka_behind
from shared.topics import CHANGES
from tests.integration.publisher.publisher_live import settings_for


async def commit(bootstrap: list[str], group: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(CHANGES.name, p) for p in offsets]
        consumer.assign(parts)
        await consumer.commit({tp: OffsetAndMetadata(offsets[tp.partition], "") for tp in parts})
    finally:
        await consumer.stop()


async def test_kafka_behind_compares_redis_with_the_committed_offsets(kafka_settings, aredis, prefix, tmp_path):
    group = f"nof-test-publisher-{uuid.uuid4().hex[:8]}"
    settings = settings_for(prefix, tmp_path, consume=True, consumer_group=group)
    log = RedisEventLog(aredis, prefix, 1000)
    behind = kafka_behind(settings, log)
    assert not await behind()  # nothing recorded: nothing to compare
    await log.commit([], [], {}, offsets={f"{CHANGES.name}:0": 0})
    assert not await behind()  # the group never committed
    await commit(kafka_settings.bootstrap_list, group, {0: 0})
    assert not await behind()  # level
    await commit(kafka_settings.bootstrap_list, group, {0: 0, 1: 5})
    assert not await behind()  # a partition Redis never recorded is not compared
    await log.commit([], [], {}, offsets={f"{CHANGES.name}:1": 4})
    assert await behind()  # the group consumed past what Redis holds
