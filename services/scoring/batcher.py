"""Gathers one input partition's events into bounded batches for the worker.

A batch closes when it holds ``max_records`` events or ``max_bytes`` of record values, or ``within_s``
after its first event (the caller's timer calls ``tick``). A closed batch is processed on its own task,
so the agent goes on reading other partitions' records meanwhile; one partition has at most one batch
in flight and one filling (``add`` waits for the batch in flight before closing the next). Events are
acknowledged to faust only after ``process`` returned, that is once the batch is durable, so the
consumer group's committed offset never passes what the scorer has recorded.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

#: Exit status when a batch could not be made durable: the engine in memory is then ahead of the
#: durable state, and only a restart (which recovers from the durable state) is safe.
EXIT_NOT_DURABLE = 70


class Batcher:
    def __init__(self, process: Callable[[list[Any]], Awaitable[None]], max_records: int, max_bytes: int,
                 within_s: float, on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.process = process
        self.max_records, self.max_bytes, self.within_s = max_records, max_bytes, within_s
        self.pending: list[Any] = []
        self.bytes = 0
        self.opened = 0.0
        #: Held while a batch is processed; the read model holds it while it reads this partition's engine.
        self.lock = asyncio.Lock()
        self.in_flight: asyncio.Future | None = None
        #: Called when a batch could not be made durable; it must stop the worker (the default exits).
        self.on_failure = on_failure or _exit

    async def add(self, event: Any, size: int, now: float | None = None) -> None:
        if not self.pending:
            self.opened = now if now is not None else asyncio.get_running_loop().time()
        self.pending.append(event)
        self.bytes += size
        if len(self.pending) >= self.max_records or self.bytes >= self.max_bytes:
            await self._close()

    async def tick(self, now: float | None = None) -> None:
        """Close the filling batch once it is ``within_s`` old, unless a batch is still in flight (the
        next tick after it finishes closes this one). Never waits for a batch to be processed."""
        now = now if now is not None else asyncio.get_running_loop().time()
        if self.pending and now - self.opened >= self.within_s and not self.busy:
            await self._close()

    @property
    def busy(self) -> bool:
        return self.in_flight is not None and not self.in_flight.done()

    async def idle(self) -> None:
        """Wait until no batch is in flight."""
        while self.busy:
            await asyncio.wait([self.in_flight])

    async def flush(self) -> None:
        """Process everything pending now, after the batch in flight (used before a rebalance)."""
        await self.idle()
        await self._process_pending()

    async def _close(self) -> None:
        await self.idle()  # at most one batch in flight per partition: back-pressure on the agent
        self.in_flight = asyncio.ensure_future(self._process_pending())

    async def _process_pending(self) -> None:
        async with self.lock:
            events, self.pending, self.bytes = self.pending, [], 0
            if not events:
                return
            try:
                await self.process(events)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.on_failure(exc)
                return
            for event in events:
                event.ack()


class PartitionBatchers:
    """One batcher per input partition number (a partition of either input topic: one commit record each),
    so one partition's batch, or a league write holding its lock, never holds up another partition."""

    def __init__(self, partitions: Iterable[int], make: Callable[[], Batcher]) -> None:
        self.by_partition = {p: make() for p in partitions}

    def __getitem__(self, partition: int) -> Batcher:
        return self.by_partition[partition]

    async def tick(self, now: float | None = None) -> None:
        for batcher in self.by_partition.values():
            await batcher.tick(now)  # never waits for a batch to be processed

    @property
    def settled(self) -> bool:
        """No batch pending or in flight on any partition."""
        return not any(b.pending or b.busy for b in self.by_partition.values())

    async def drain(self, passes: int = 100) -> bool:
        """Process every pending and in-flight batch, pass after pass, until a pass starts with none left:
        while one partition is flushed the agent may add records to another. Returns ``settled`` (at most
        ``passes`` passes: records keep arriving while the stream flows)."""
        for _ in range(passes):
            if self.settled:
                return True
            for batcher in self.by_partition.values():
                await batcher.flush()
        return self.settled


def _exit(exc: BaseException) -> None:
    log.critical("a batch could not be made durable; exiting so that a restart recovers from the durable state",
                 exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_NOT_DURABLE)
