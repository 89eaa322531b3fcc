"""Where each input partition resumes, and what happens when a record arrives past that place.

At assignment the worker commits its durable positions to the consumer group before faust seeks, so
faust's own seek lands on them (docs/ARCHITECTURE.md, "Where a partition resumes"). A record past the
next offset to apply means something else moved the fetcher; ``Repositioner`` handles it once per
partition at a time: records deleted by retention are skipped and counted, otherwise the partition is
paused while records of earlier fetches drain, sought back once, resumed, and the repositioning counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from services.scoring import metrics

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]


class Consumer(Protocol):
    """The part of faust's consumer this needs (TPs are faust's; anything with .topic and .partition)."""

    async def earliest_offsets(self, *partitions: Any) -> Mapping[Any, int]: ...
    async def seek(self, partition: Any, offset: int) -> None: ...
    def pause_partitions(self, tps: Iterable[Any]) -> None: ...
    def resume_partitions(self, tps: Iterable[Any]) -> None: ...


class Repositioner:
    def __init__(self, consumer: Consumer, make_tp: Callable[[str, int], Any], position: Callable[[TopicPartition], int],
                 skip_to: Callable[[TopicPartition, int], None], drain_s: float,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.consumer, self.make_tp, self.position, self.skip_to = consumer, make_tp, position, skip_to
        self.drain_s, self.sleep = drain_s, sleep
        self.busy: set[TopicPartition] = set()

    def gap(self, tp: TopicPartition, expected: int) -> asyncio.Future | None:
        """A record arrived past ``expected``: start handling it unless that partition is already in hand."""
        if tp in self.busy:
            return None
        self.busy.add(tp)
        return asyncio.ensure_future(self._handle(tp, expected))

    async def _handle(self, tp: TopicPartition, expected: int) -> None:
        ftp = self.make_tp(*tp)
        try:
            earliest = (await self.consumer.earliest_offsets(ftp)).get(ftp, 0)
            if earliest > expected:
                metrics.RETENTION_SKIPS.labels(tp[0], str(tp[1])).inc(earliest - expected)
                log.warning("records deleted by retention before they were applied; continuing after them",
                            extra={"topic": tp[0], "partition": tp[1], "from": expected, "to": earliest})
                self.skip_to(tp, earliest)
                return
            metrics.REPOSITIONS.labels(tp[0], str(tp[1])).inc()
            log.warning("a record arrived past the next offset to apply; seeking the partition back once",
                        extra={"topic": tp[0], "partition": tp[1], "offset": expected})
            self.consumer.pause_partitions([ftp])
            try:
                await self.sleep(self.drain_s)  # records of earlier fetches reach the worker, which skips them
                await self.consumer.seek(ftp, self.position(tp))
            finally:
                self.consumer.resume_partitions([ftp])
            await self.sleep(self.drain_s)  # the re-fetch arrives before another gap can count
        finally:
            self.busy.discard(tp)


async def commit_positions(commit: Callable[[dict[Any, int]], Awaitable[bool]], make_tp: Callable[[str, int], Any],
                           resume: Mapping[TopicPartition, int]) -> bool:
    """Make the group's committed offsets the durable positions (faust seeks to them next)."""
    if not resume:
        return True
    ok = await commit({make_tp(t, p): offset for (t, p), offset in resume.items()})
    if not ok:
        log.warning("could not commit the recovered positions; faust resumes from the group's offsets")
    return ok
