"""One tail of the event log per process, shared by every SSE client and webhook worker.

A single task blocks on the log (XREAD) and keeps the newest ``ring_size`` entries in memory, so
workers that are caught up read from memory, and pushes each new entry to the bounded queue of every
SSE listener whose filters match. A listener whose queue is full is marked ``overflowed``: the stream
route then ends that client's connection with an ``overflow`` event (see routes/stream.py). Each fan-out
is logged at DEBUG (event id, correlation id, how many clients got it): one line per event, not per client.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import deque
from dataclasses import dataclass

from services.publisher.event_log import EventLog, LogEntry, StreamId, id_key
from services.publisher.filters import Filters, matches

log = logging.getLogger(__name__)

Row = tuple[StreamId, LogEntry]


@dataclass(eq=False)
class Listener:
    filters: Filters
    queue: asyncio.Queue[Row]
    start: StreamId = "0-0"  # the log position when it connected: a live client resumes after this
    overflowed: bool = False


class Hub:
    def __init__(self, event_log: EventLog, ring_size: int = 20_000, block_ms: int = 2_000) -> None:
        self.log, self.block_ms = event_log, block_ms
        self.ring: deque[Row] = deque(maxlen=ring_size)
        self.keys: deque[tuple[int, int]] = deque(maxlen=ring_size)
        self.base: tuple[int, int] | None = None  # everything after this position is in the ring
        self.tail: StreamId = "0-0"
        self.listeners: set[Listener] = set()
        self._new = asyncio.Event()  # replaced on every publish; waiters wake together, no lock hand-offs
        self.ready = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                if not self.ready.is_set():  # inside the retry loop: Redis may not answer yet
                    self.tail = await self.log.head()
                    self.base = id_key(self.tail)
                    self.ready.set()
                rows = await self.log.wait_after(self.tail, self.block_ms, count=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event log tail failed; retrying")
                await asyncio.sleep(1)
                continue
            if rows:
                self._publish(rows)

    def _publish(self, rows: list[Row]) -> None:
        debug = log.isEnabledFor(logging.DEBUG)
        for sid, entry in rows:
            if len(self.ring) == self.ring.maxlen:
                self.base = self.keys[0]
            self.ring.append((sid, entry))
            self.keys.append(id_key(sid))
            queued = overflowed = 0
            for listener in self.listeners:
                if listener.overflowed or not matches(listener.filters, entry.facts):
                    continue
                try:
                    listener.queue.put_nowait((sid, entry))
                    queued += 1
                except asyncio.QueueFull:
                    listener.overflowed = True
                    overflowed += 1
            if debug and (queued or overflowed):
                log.debug("event fanned out to SSE clients", extra={
                    "event_id": entry.event_id, "position": sid, "clients": queued, "overflowed": overflowed,
                    **({"correlation_id": entry.correlation_id} if entry.correlation_id else {})})
        self.tail = rows[-1][0]
        woken, self._new = self._new, asyncio.Event()
        woken.set()

    def reset(self) -> None:
        """The log was rebuilt (Redis lost it): forget the ring, whose entries are no longer in the log.
        Reads at or before the current tail then go to the log; new entries still follow the tail."""
        self.ring.clear()
        self.keys.clear()
        self.base = id_key(self.tail)

    def listen(self, filters: Filters, maxsize: int) -> Listener:
        listener = Listener(filters, asyncio.Queue(maxsize), start=self.tail)
        self.listeners.add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def covers(self, after: StreamId) -> bool:
        """Whether every entry after ``after`` is in memory (so none of them can have been trimmed away)."""
        return self.base is not None and id_key(after) >= self.base

    async def read_after(self, after: StreamId, count: int = 500) -> list[Row]:
        """Entries after ``after`` in log order: from memory when the ring covers them, else from the log."""
        if self.covers(after):
            start = bisect.bisect_right(self.keys, id_key(after))
            return [self.ring[i] for i in range(start, min(start + count, len(self.ring)))]
        return await self.log.read_after(after, count)

    async def wait(self, after: StreamId, timeout: float) -> None:
        """Return when the log has something after ``after`` (or after ``timeout`` seconds)."""
        if id_key(self.tail) > id_key(after):
            return
        try:
            async with asyncio.timeout(timeout):
                await self._new.wait()
        except TimeoutError:
            pass
