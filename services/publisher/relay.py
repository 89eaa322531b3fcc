"""Event log → the public Kafka topic (``nof.public-events.v1``, key = league), at-least-once with stable ids.

Like a webhook subscription it keeps a cursor (``{p}:relay:cursor``) and a lease (one relay across
instances), and advances the cursor only after the broker acknowledged the batch. Records use the
CloudEvents Kafka binding in structured mode (``content-type: application/cloudevents+json``).

After a failed send the producer is replaced by a new one: an idempotent producer whose batches failed
(a broker restart, for one) can be left with a gap in its sequence numbers that it never recovers from
(``OutOfOrderSequenceNumber`` on every later send), and a new producer gets a new producer id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaProducer

from services.publisher import metrics
from services.publisher.hub import Hub
from services.publisher.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)

RELAY_ID = "relay-public-topic"
HEADERS = [("content-type", b"application/cloudevents+json")]


async def run(new_producer: Callable[[], AIOKafkaProducer], topic: str, hub: Hub, store: SubscriptionStore,
              owner: str, lease_ms: int = 15_000) -> None:
    producer: AIOKafkaProducer | None = None
    try:
        while True:
            try:
                if producer is None:
                    producer = new_producer()
                    await producer.start()
                token = await store.acquire(RELAY_ID, owner, lease_ms)
                if token is None:
                    await asyncio.sleep(lease_ms / 3000)
                    continue
                cursor = await store.cursor(RELAY_ID)
                rows = await hub.read_after(cursor, 500)
                if not rows:
                    await hub.wait(cursor, lease_ms / 3000)
                    continue
                futures = [await producer.send(topic, value=e.body, key=e.facts.league.encode(), headers=HEADERS)
                           for _, e in rows]
                await asyncio.gather(*futures)
                now = time.time()
                for _, e in rows:
                    metrics.change_to_delivery.labels("kafka").observe(max(0.0, now - e.occurred_ms / 1000))
                await store.set_cursor(RELAY_ID, rows[-1][0], token)  # refused if the lease moved on
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("public topic relay failed; retrying in 2 s with a new producer")
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    producer = None
                await asyncio.sleep(2)
    finally:
        if producer is not None:
            await producer.stop()
