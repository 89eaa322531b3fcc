"""The gate between the batchers and the worker: batches go in only while the worker's engines are current.

A rebalance rebuilds the engines from the durable state (``ScoringWorker.recover``). Closing the gate
stops new batches at once (they wait until it opens again) and then waits for the batches already inside,
so no batch ever runs against an engine that is being replaced.

A rebuild may itself be overtaken: a newer revocation can arrive while it awaits. The gate counts
revocations, so a rebuild notes the count when it starts and stops (without opening the gate) once the
count has moved; the newer rebalance rebuilds again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class RebuildGate:
    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._vacant = asyncio.Event()
        self._vacant.set()
        self.inside = 0
        self.revocations = 0

    def revoked(self) -> None:
        """Partitions were revoked: a rebuild started before now is overtaken."""
        self.revocations += 1

    def overtaken(self, since: int) -> bool:
        """Whether a revocation came after ``since`` (the count a rebuild noted when it started)."""
        return self.revocations != since

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def open(self) -> None:
        self._open.set()

    async def close(self) -> None:
        """Let no new batch in, then wait for those inside to finish."""
        self._open.clear()
        await self._vacant.wait()

    @asynccontextmanager
    async def entered(self) -> AsyncIterator[None]:
        """Wait until the gate is open, and hold a place inside it for the block."""
        while not self._open.is_set():  # woken by open(), it may have closed again before this ran
            await self._open.wait()
        self.inside += 1
        self._vacant.clear()
        try:
            yield
        finally:
            self.inside -= 1
            if not self.inside:
                self._vacant.set()
