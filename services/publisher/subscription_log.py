"""The source of truth for which webhook subscriptions exist: a compacted Kafka topic (with an in-memory twin).

The admin API writes here first (acks=all) and only then to Redis, the working copy; a write that the
broker does not acknowledge answers 503 and nothing is stored. Records: key ``<redis key prefix>/<id>``
(the prefix scopes one publisher deployment, so deployments sharing a topic namespace do not restore each
other's subscriptions), value the subscription JSON with its filters and its secret sealed (secret_box.py),
or a tombstone (null) when it is deleted. ``load`` reads the topic from its beginning to its current end: what Redis is restored
from after losing its state (recovery.py). The topic carries webhook secrets: restrict who may read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.publisher.errors import Unavailable
from services.publisher.secret_box import SecretBox
from services.publisher.settings import PublisherSettings
from services.publisher.subscriptions import Subscription
from shared.topic_reader import partitions_async, read_batches_to_end
from shared.kafka_security import aiokafka_options


class KafkaSubscriptionLog:
    def __init__(self, settings: PublisherSettings, box: SecretBox) -> None:
        self.box = box
        self.kafka = settings.common.kafka
        self.topic = settings.subscriptions_topic
        self.scope = settings.common.redis.key_prefix
        self.timeout = settings.subscriptions_write_timeout_seconds
        self.load_timeout = settings.kafka_read_timeout_seconds
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    def _key(self, sub_id: str) -> bytes:
        return f"{self.scope}/{sub_id}".encode()

    async def put(self, sub: Subscription) -> None:
        await self._write(self._key(sub.id), sub.stored(self.box).encode())

    async def remove(self, sub_id: str) -> None:
        await self._write(self._key(sub_id), None)

    async def _write(self, key: bytes, value: bytes | None) -> None:
        async with self._lock:  # one write at a time: a failed producer is replaced before the next
            try:
                async with asyncio.timeout(self.timeout):
                    if self._producer is None:
                        self._producer = AIOKafkaProducer(
                            bootstrap_servers=self.kafka.bootstrap_list, acks="all",
                            client_id=f"{self.kafka.client_id}-publisher-subscriptions",
                            request_timeout_ms=self.kafka.request_timeout_ms, **aiokafka_options(self.kafka))
                        await self._producer.start()
                    await self._producer.send_and_wait(self.topic, value=value, key=key)
            except Exception as exc:
                await self.close()
                raise Unavailable(f"the subscriptions topic did not acknowledge the write ({type(exc).__name__}); "
                                  "nothing was stored, try again") from exc

    async def load(self) -> list[Subscription]:
        """Every live subscription of this deployment, read from the beginning of the topic to its end."""
        reader = AIOKafkaConsumer(bootstrap_servers=self.kafka.bootstrap_list, enable_auto_commit=False,
                                  client_id=f"{self.kafka.client_id}-publisher-subscriptions-load",
                                  request_timeout_ms=self.kafka.request_timeout_ms, **aiokafka_options(self.kafka))
        await reader.start()
        latest: dict[bytes, bytes | None] = {}
        try:
            parts = await partitions_async(reader, self.topic)
            if not parts:
                raise RuntimeError(f"topic {self.topic} does not exist: run `python -m shared.kafka_admin declare`")
            async for batch in read_batches_to_end(reader, parts, timeout_s=self.load_timeout):
                for r in batch:
                    if r.key is not None:
                        latest[r.key] = r.value
        finally:
            await reader.stop()
        prefix = f"{self.scope}/".encode()
        return sorted((Subscription.from_stored(v, self.box) for k, v in latest.items() if k.startswith(prefix) and v is not None),
                      key=lambda s: s.created_at)

    async def close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
            self._producer = None


class MemorySubscriptionLog:
    """In-memory twin: the records in write order; ``failing`` makes every write raise Unavailable."""

    def __init__(self, scope: str = "nof", box: SecretBox | None = None) -> None:
        self.scope = scope
        self.box = box or SecretBox.generate()
        self.records: list[tuple[str, str | None]] = []
        self.failing = False

    async def put(self, sub: Subscription) -> None:
        self._write(sub.id, sub.stored(self.box))

    async def remove(self, sub_id: str) -> None:
        self._write(sub_id, None)

    def _write(self, sub_id: str, value: str | None) -> None:
        if self.failing:
            raise Unavailable("the subscriptions topic did not acknowledge the write; nothing was stored, try again")
        self.records.append((f"{self.scope}/{sub_id}", value))

    async def load(self) -> list[Subscription]:
        latest = dict(self.records)
        return sorted((Subscription.from_stored(v, self.box) for v in latest.values() if v is not None), key=lambda s: s.created_at)

    def ids(self) -> set[str]:
        return {json.loads(v)["id"] for v in dict(self.records).values() if v is not None}

    async def close(self) -> None:
        return None


SubscriptionLog = KafkaSubscriptionLog | MemorySubscriptionLog
