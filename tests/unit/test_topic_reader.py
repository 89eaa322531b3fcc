"""Reading partitions to the end they had at the start, against in-memory twins of both Kafka clients."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from kafka import TopicPartition

from shared.topic_reader import partitions, read_batches_to_end, read_to_end


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class MemoryConsumer:
    """A kafka-python consumer twin over in-memory partition logs; each poll returns at most ``chunk`` records
    per partition, and ``on_poll`` runs before each poll (a producer writing while the reader reads)."""

    def __init__(self, logs: dict[str, list[list[bytes]]], chunk: int = 3, earliest: int = 0,
                 stuck: bool = False) -> None:
        self.logs = {(t, p): [Record(t, p, o, b"k", v) for o, v in enumerate(values)]
                     for t, parts in logs.items() for p, values in enumerate(parts)}
        self.chunk, self.earliest, self.stuck = chunk, earliest, stuck
        self.assigned: list[TopicPartition] = []
        self.positions: dict[TopicPartition, int] = {}
        self.polls = 0
        self.on_poll = lambda: None

    def append(self, topic: str, partition: int, value: bytes) -> None:
        log = self.logs[(topic, partition)]
        log.append(Record(topic, partition, len(log), b"k", value))

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        found = {p for t, p in self.logs if t == topic}
        return found or None

    def assign(self, parts: list[TopicPartition]) -> None:
        self.assigned = list(parts)

    def seek_to_beginning(self, *parts: TopicPartition) -> None:
        for tp in parts:
            self.positions[tp] = self.earliest

    def end_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.logs[(tp.topic, tp.partition)]) for tp in parts}

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Record]]:
        self.polls += 1
        self.on_poll()
        if self.stuck:
            return {}
        out = {}
        for tp in self.assigned:
            records = self.logs[(tp.topic, tp.partition)][self.positions[tp]:self.positions[tp] + self.chunk]
            if records:
                out[tp] = records
                self.positions[tp] += len(records)
        return out


class AsyncMemoryConsumer(MemoryConsumer):
    """The same twin with aiokafka's coroutine methods."""

    async def seek_to_beginning(self, *parts: TopicPartition) -> None:  # type: ignore[override]
        MemoryConsumer.seek_to_beginning(self, *parts)

    async def end_offsets(self, parts: list[TopicPartition]) -> dict[TopicPartition, int]:  # type: ignore[override]
        return MemoryConsumer.end_offsets(self, parts)

    async def position(self, tp: TopicPartition) -> int:  # type: ignore[override]
        return MemoryConsumer.position(self, tp)

    async def getmany(self, *parts: TopicPartition, timeout_ms: int = 0, max_records: int = 0) -> dict:
        await asyncio.sleep(0)
        return MemoryConsumer.poll(self, timeout_ms)


LOGS = {"t": [[b"a0", b"a1", b"a2", b"a3", b"a4"], [], [b"c0", b"c1"]]}


def test_every_record_to_the_end_in_partition_order_and_progress_counts_them():
    consumer = MemoryConsumer(LOGS)
    seen: list[int] = []
    records = list(read_to_end(consumer, partitions(consumer, "t"), progress=seen.append))
    assert [r.value for r in records if r.partition == 0] == [b"a0", b"a1", b"a2", b"a3", b"a4"]
    assert [r.value for r in records if r.partition == 2] == [b"c0", b"c1"]
    assert len(records) == 7 and seen[-1] == 7 and seen == sorted(seen)


def test_records_written_after_the_start_are_left_out():
    consumer = MemoryConsumer(LOGS, chunk=2)
    consumer.on_poll = lambda: consumer.append("t", 0, f"late{consumer.polls}".encode())
    records = list(read_to_end(consumer, partitions(consumer, "t")))
    assert not any(r.value.startswith(b"late") for r in records)
    assert len(records) == 7


def test_a_compacted_start_reads_from_the_earliest_offset():
    consumer = MemoryConsumer({"t": [[b"x0", b"x1", b"x2", b"x3"]]}, earliest=2)
    assert [r.value for r in read_to_end(consumer, partitions(consumer, "t"))] == [b"x2", b"x3"]


def test_an_empty_topic_and_a_missing_topic_read_nothing():
    consumer = MemoryConsumer({"t": [[], []]})
    assert list(read_to_end(consumer, partitions(consumer, "t"))) == []
    assert partitions(consumer, "missing") == [] and list(read_to_end(consumer, [])) == []
    assert consumer.polls == 0


def test_a_read_that_never_reaches_the_end_times_out():
    consumer = MemoryConsumer(LOGS, stuck=True)
    with pytest.raises(TimeoutError, match=r"t:0 \(end 5\)"):
        list(read_to_end(consumer, partitions(consumer, "t"), timeout_s=0.05, poll_ms=1))
    assert consumer.polls >= 1


async def test_the_async_reader_yields_batches_to_the_end():
    consumer = AsyncMemoryConsumer(LOGS, chunk=2)
    consumer.on_poll = lambda: consumer.append("t", 2, b"late")
    seen: list[int] = []
    batches = [b async for b in read_batches_to_end(consumer, partitions(consumer, "t"), progress=seen.append)]
    values = [r.value for b in batches for r in b]
    assert all(batches) and len(batches) > 1
    assert sorted(values) == sorted(v for parts in LOGS["t"] for v in parts) and seen[-1] == 7


async def test_the_async_reader_times_out():
    consumer = AsyncMemoryConsumer(LOGS, stuck=True)
    with pytest.raises(TimeoutError):
        async for _ in read_batches_to_end(consumer, partitions(consumer, "t"), timeout_s=0.05, poll_ms=1):
            pass
