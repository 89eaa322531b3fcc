"""Kafka → Redis stream → public topic: the real consumer dedupes, drops stale versions, derives alerts."""

import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.publisher.event_log import RedisEventLog
from shared.topics import CHANGES, PUBLIC_EVENTS
from tests.integration.publisher.publisher_live import running, settings_for
from tests.unit.publisher.publisher_builders import assessment, seg, seg_change


async def end_offsets(bootstrap: list[str], topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or range(3)]
        return await consumer.end_offsets(parts)
    finally:
        await consumer.stop()


async def read_public(bootstrap: list[str], start: dict[TopicPartition, int], want: set[str], timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        async def until():
            while {r[1]["id"] for r in found} < want:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        body = json.loads(r.value)
                        if body.get("id") in want:
                            found.append((r.key.decode(), body, dict(r.headers)))
        await asyncio.wait_for(until(), timeout)
    finally:
        await consumer.stop()
    return found


async def test_changes_flow_to_the_log_and_the_public_topic(kafka_settings, aredis, prefix, tmp_path):
    bootstrap = kafka_settings.bootstrap_list
    league = f"test-{uuid.uuid4().hex[:8]}"  # a league of our own: others' traffic cannot interfere
    before = await end_offsets(bootstrap, PUBLIC_EVENTS.name)
    events = [seg_change(3, seg(2), seg(3), trust="R0A", league=league), assessment(3, trust="RBB", league=league),
              assessment(4, trust="R0A", league=league)]
    stale = assessment(2, trust="RCC", league=league)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    settings = settings_for(prefix, tmp_path, consume=True, public_topic_enabled=True, consumer_offset_reset="latest",
                            consumer_group=f"nof-test-publisher-{uuid.uuid4().hex[:8]}")
    log = RedisEventLog(aredis, prefix, 1000)
    try:
        async with running(settings):
            # A fresh group reading from "latest": knock until it is assigned and reading.
            probe = f"probe-{uuid.uuid4().hex[:8]}"
            for n in range(60):
                await producer.send_and_wait(CHANGES.name, assessment(n, league=probe).to_bytes(), key=probe.encode())
                await asyncio.sleep(0.5)
                if any(r[1].facts.league == probe for r in await log.read_after("0-0")):
                    break
            for e in [*events, events[0], stale]:  # a duplicate and an older version after them
                await producer.send_and_wait(CHANGES.name, e.to_bytes(), key=league.encode())
            rows: list = []
            for _ in range(150):
                rows = [r for r in await log.read_after("0-0") if r[1].facts.league == league]
                if len(rows) >= 4:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            rows = [r for r in await log.read_after("0-0") if r[1].facts.league == league]
            assert [r[1].facts.type for r in rows] == ["segment.changed", "segment.worsened", "assessment.changed",
                                                       "assessment.changed"]
            assert rows[0][1].facts.region == "North West"  # from the trust register
            want = {r[1].event_id for r in rows}
            public = await read_public(bootstrap, before, want)
            assert {p[1]["id"] for p in public} == want
            assert all(k == league for k, _, _ in public)
            assert all(h["content-type"] == b"application/cloudevents+json" for _, _, h in public)
            types = [p[1]["type"] for p in public]
            assert "uk.nhs.nof.segment.worsened" in types
    finally:
        await producer.stop()
