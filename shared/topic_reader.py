"""Reading topic partitions from their beginning to the end they had when the read started.

One loop for every reader that rebuilds something from a topic (the publisher's subscriptions and event
log, the scorer's read model, the tests' and the soak's views of a topic): assign the partitions, seek to
their beginning, take their end offsets once, and yield every record below those ends, in partition order.
Records written after the start are left out, so the read always finishes; ``timeout_s`` bounds it all the
same (a broker that stops answering raises TimeoutError rather than hanging the caller).

``read_to_end`` takes a kafka-python ``KafkaConsumer``, ``read_batches_to_end`` an aiokafka
``AIOKafkaConsumer``; neither joins a consumer group, so a group's committed offsets are left alone.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from aiokafka import TopicPartition as AioTopicPartition
from kafka import TopicPartition

Progress = Callable[[int], None]  # called with the number of records yielded so far


def partitions(consumer: Any, topic: str) -> list[TopicPartition]:
    """The topic's partitions, in partition order (empty: no such topic), for a kafka-python consumer."""
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


async def partitions_async(consumer: Any, topic: str) -> list[AioTopicPartition]:
    """The topic's partitions for an aiokafka consumer, from fresh metadata (it knows only its subscriptions'
    partitions, and ``topics()`` does not keep what it fetched)."""
    cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - aiokafka has no public call for this
    return [AioTopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]


def _overdue(remaining: set, end: dict, timeout_s: float) -> TimeoutError:
    left = ", ".join(f"{tp.topic}:{tp.partition} (end {end[tp]})" for tp in sorted(remaining, key=str))
    return TimeoutError(f"reading to the end took more than {timeout_s:g} s; unfinished: {left}")


def read_to_end(consumer: Any, parts: Sequence[Any], *, timeout_s: float = 60.0, progress: Progress | None = None,
                poll_ms: int = 500) -> Iterator[Any]:
    """Every record of ``parts`` from the beginning to the end offsets read at the start, in partition order.

    ``consumer`` is a kafka-python KafkaConsumer (not subscribed to anything); it is assigned ``parts`` and
    left open. Raises TimeoutError when the read is not done within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    parts = list(parts)
    if not parts:
        return
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    end = consumer.end_offsets(parts)
    remaining = {tp for tp in parts if consumer.position(tp) < end[tp]}
    seen = 0
    while remaining:
        if time.monotonic() > deadline:
            raise _overdue(remaining, end, timeout_s)
        for tp, records in consumer.poll(timeout_ms=poll_ms).items():
            for r in records:
                if r.offset < end[tp]:
                    seen += 1
                    yield r
        for tp in list(remaining):
            if consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
        if progress:
            progress(seen)


async def read_batches_to_end(consumer: Any, parts: Sequence[Any], *, timeout_s: float = 60.0,
                              progress: Progress | None = None, max_records: int = 500,
                              poll_ms: int = 1000) -> AsyncIterator[list[Any]]:
    """``read_to_end`` for an aiokafka AIOKafkaConsumer (started, not subscribed): the records in the batches
    they were fetched in (each in partition order), so the caller can write each batch before the next."""
    deadline = time.monotonic() + timeout_s
    parts = list(parts)
    if not parts:
        return
    consumer.assign(parts)
    await consumer.seek_to_beginning(*parts)
    end = await consumer.end_offsets(parts)
    remaining = {tp for tp in parts if await consumer.position(tp) < end[tp]}
    seen = 0
    while remaining:
        if time.monotonic() > deadline:
            raise _overdue(remaining, end, timeout_s)
        batches = await consumer.getmany(*remaining, timeout_ms=poll_ms, max_records=max_records)
        batch = [r for tp, records in batches.items() for r in records if r.offset < end[tp]]
        if batch:
            seen += len(batch)
            yield batch
        for tp in list(remaining):
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
        if progress:
            progress(seen)
