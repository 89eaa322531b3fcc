"""On the real broker: both readers return every record of a topic up to its end at the start, in partition order."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic

from shared.kafka_producer import make_producer
from shared.topic_reader import partitions, partitions_async, read_batches_to_end, read_to_end


def test_both_readers_read_every_record_to_the_end_at_the_start(kafka_settings):
    topic = f"it-reader-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_list, request_timeout_ms=30_000)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    producer = make_producer(kafka_settings, "it-reader")
    consumer = KafkaConsumer(bootstrap_servers=kafka_settings.bootstrap_list, enable_auto_commit=False)
    try:
        sent = {f"k{i % 5}".encode(): [] for i in range(5)}
        for i in range(300):
            key = f"k{i % 5}".encode()
            producer.send(topic, key=key, value=str(i).encode())
            sent[key].append(str(i).encode())
        producer.flush(timeout=30)

        parts = partitions(consumer, topic)
        assert len(parts) == 3
        progress: list[int] = []
        records = []
        for r in read_to_end(consumer, parts, timeout_s=60, progress=progress.append):
            if len(records) == 0:  # written after the read started: not part of it
                producer.send(topic, key=b"k0", value=b"late").get(timeout=15)
            records.append(r)
        assert len(records) == 300 and progress[-1] == 300
        for key, values in sent.items():  # one key's records stay in the order they were written
            assert [r.value for r in records if r.key == key] == values

        async def read_async() -> list:
            reader = AIOKafkaConsumer(bootstrap_servers=kafka_settings.bootstrap_list, enable_auto_commit=False)
            await reader.start()
            try:
                return [b async for b in read_batches_to_end(reader, await partitions_async(reader, topic), timeout_s=60)]
            finally:
                await reader.stop()

        batches = asyncio.run(read_async())
        values = [r.value for b in batches for r in b]
        assert len(values) == 301 and values.count(b"late") == 1
    finally:
        consumer.close()
        producer.close(timeout=10)
        admin.delete_topics([topic])
        admin.close()
