"""The scorer's process recorder: each batch of an input partition made durable by one commit record,
and the state a restart recovers from it.

Like eventsourcing's process recorder, the new state and the tracking position are recorded together
in one atomic write: the commit record of a batch holds the partition's last applied offsets, its league
versions, the batch's per-key state writes and its outbox (change events and dead letters). For input
partition p every write goes to changelog partition p, whose order the producer keeps:

1. the commit record ``~commit|p``;
2. the batch's per-key state writes, after it;
3. once those are acknowledged, the batch's change events and dead letters on their own topics.

The worker awaits every acknowledgement of a batch before it sends the next batch's commit record and
before it lets the consumer group's offset pass the batch. After a restart it first writes the recovered
commit record's per-key state again (``rewrite``) and awaits that too: a crash may have cut those writes
short, and the next commit record must never be sent while any of them is missing from the changelog.

After a crash at any moment, let C be p's latest commit record on the changelog:

- every per-key write of an earlier batch reached the changelog before C was sent (in the worker that
  sent C, or written again by it after its own restart); C's own writes may be missing, and recovery
  applies them from C (``state.durable_table``), then writes them again;
- nothing of a later batch is on the changelog: its commit record would have come first;
- C's events and dead letters may be missing from their topics: they are sent again, byte for byte;
- no later batch's event left: its events wait for its commit record's acknowledgement. That batch
  is read again from C's offsets and recomputed; the order in which a league's two input topics
  interleave may differ from the first time, and it does not matter, since nothing of it was published.

So a restart recovers exactly the state of the last durable batch. Compaction keeps the latest value
of every key, C included, so none of this depends on the changelog's history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, MutableMapping
from typing import Any, Protocol

import orjson

from services.scoring import state


class Sink(Protocol):
    """Where the scorer's records go: ``send`` returns once the record is queued, with an awaitable
    that completes when the broker has acknowledged it (and raises if it never will)."""

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int | None = None) -> Awaitable[Any]:
        ...


def table_key(key: str) -> bytes:
    """Changelog keys are JSON strings, as the state table's key serializer writes them."""
    return orjson.dumps(key)


class ProcessRecorder:
    """Writes commit records and per-key state to the changelog, mirrored in ``table`` (the faust table's
    data in the worker, a dict in tests), and says what a restart recovers."""

    def __init__(self, sink: Sink, changelog: str, table: MutableMapping[str, bytes]) -> None:
        self.sink = sink
        self.changelog = changelog
        self.table = table

    async def record(self, commit: state.CommitRecord) -> list[Awaitable[Any]]:
        """Send one batch's commit record, then its per-key writes; returns their acknowledgements."""
        p = commit.partition
        encoded = commit.encode()
        key = state.commit_key(p)
        acks = [await self.sink.send(self.changelog, table_key(key), encoded, p)]
        self.table[key] = encoded
        return acks + await self._write_state(commit)

    async def rewrite(self, commit: state.CommitRecord) -> list[Awaitable[Any]]:
        """Send a recovered commit record's per-key writes again; returns their acknowledgements.

        They are the latest values of their keys (no later batch is durable), so writing them twice is
        harmless; not writing them would let the next commit record hide them: a crash after it recovers
        only its own batch's writes on top of the changelog."""
        return await self._write_state(commit)

    async def _write_state(self, commit: state.CommitRecord) -> list[Awaitable[Any]]:
        acks = []
        for k, value in commit.writes:
            acks.append(await self.sink.send(self.changelog, table_key(k), value, commit.partition))
            if value is None:
                self.table.pop(k, None)
            else:
                self.table[k] = value
        return acks

    def recovered(self) -> dict[str, bytes]:
        """The durable state: per-key records with each partition's last commit record's writes on top."""
        return state.durable_table(_str_keys(self.table.items()))


def _str_keys(items: Iterable[tuple[Any, Any]]) -> list[tuple[str, bytes]]:
    return [(k.decode() if isinstance(k, bytes) else k, v) for k, v in items]


class Crash(Exception):
    """Raised by the in-memory broker at the write a test chose: nothing from then on is durable."""


class MemoryBroker:
    """The in-memory twin of Kafka for the scorer: every send in order, acknowledged at once, and a
    crash that can be armed to strike at any single write (``crash_at``, counted from 0)."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.log: list[tuple[str, int | None, bytes, bytes | None]] = []
        self.crash_at = crash_at

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int | None = None) -> Awaitable[Any]:
        if self.crash_at is not None and len(self.log) >= self.crash_at:
            raise Crash(f"crashed before write {len(self.log)}")
        self.log.append((topic, partition, key, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def topic(self, name: str) -> list[tuple[bytes, bytes | None]]:
        return [(k, v) for t, _, k, v in self.log if t == name]

    def table(self, changelog: str) -> dict[str, bytes]:
        """What a faust table recovers from the changelog: the latest value of every key."""
        out: dict[str, bytes] = {}
        for key, value in self.topic(changelog):
            k = orjson.loads(key)
            if value is None:
                out.pop(k, None)
            else:
                out[k] = value
        return out
