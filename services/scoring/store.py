"""The scorer's state port: a key-value table whose writes go to a compacted changelog partition the
caller names, and whose writes and sends can be awaited until the broker has acknowledged them.

Naming the partition (the input record's) keeps every key of a league in the changelog partition the
league's inputs come from, even when one batch holds records of several partitions; awaiting the
acknowledgements before a batch's offsets may be committed is what makes a SIGKILL lose nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol


class StateStore(Protocol):
    def put(self, partition: int, key: str, value: bytes) -> None: ...
    def delete(self, partition: int, key: str) -> None: ...
    def items(self) -> Iterable[tuple[str, bytes]]: ...
    async def sync(self) -> None: ...


class FaustTableStore:
    """A faust Table (memory store) written through its changelog with explicit partitions."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self._pending: list[Awaitable[Any]] = []

    def put(self, partition: int, key: str, value: bytes) -> None:
        self.table.data[key] = value
        self._pending.append(self.table.send_changelog(partition, key, value))

    def delete(self, partition: int, key: str) -> None:
        self.table.data.pop(key, None)
        self._pending.append(self.table.send_changelog(partition, key, None))

    def items(self) -> Iterable[tuple[str, bytes]]:
        return [(k.decode() if isinstance(k, bytes) else k, v) for k, v in self.table.data.items()]

    async def sync(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)


class MemoryStateStore:
    """The in-memory twin: a dict, and the ordered (partition, key, value) log a changelog would hold."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.log: list[tuple[int, str, bytes | None]] = []
        self.synced = 0

    def put(self, partition: int, key: str, value: bytes) -> None:
        self.data[key] = value
        self.log.append((partition, key, value))

    def delete(self, partition: int, key: str) -> None:
        self.data.pop(key, None)
        self.log.append((partition, key, None))

    def items(self) -> Iterable[tuple[str, bytes]]:
        return list(self.data.items())

    async def sync(self) -> None:
        self.synced = len(self.log)

    def durable(self) -> dict[str, bytes]:
        """What a restart would recover: the changelog up to the last sync."""
        table: dict[str, bytes] = {}
        for _, key, value in self.log[: self.synced]:
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
        return table
