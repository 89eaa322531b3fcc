"""Gathers the agent's input events into bounded batches for the worker.

A batch closes when it holds ``max_records`` events or ``max_bytes`` of record values, or ``within_s``
after its first event (the caller's timer calls ``tick``). One batch is processed at a time; its events
are acknowledged to faust only after ``process`` returned, that is once the batch is durable, so the
consumer group's committed offset never passes what the scorer has recorded.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
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
        self.lock = asyncio.Lock()
        self.on_failure = on_failure or _exit

    async def add(self, event: Any, size: int, now: float | None = None) -> None:
        if not self.pending:
            self.opened = now if now is not None else asyncio.get_running_loop().time()
        self.pending.append(event)
        self.bytes += size
        if len(self.pending) >= self.max_records or self.bytes >= self.max_bytes:
            await self.flush()

    async def tick(self, now: float | None = None) -> None:
        now = now if now is not None else asyncio.get_running_loop().time()
        if self.pending and now - self.opened >= self.within_s:
            await self.flush()

    async def flush(self) -> None:
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
                raise
            for event in events:
                event.ack()


def _exit(exc: BaseException) -> None:
    log.critical("a batch could not be made durable; exiting so that a restart recovers from the durable state",
                 exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_NOT_DURABLE)
