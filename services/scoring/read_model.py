"""The scorer's Redis writes: changed leagues written whole (snapshot and changed explanations), paced so
they never take more than a set share of the worker's time, and lost leagues rewritten.

The worker marks what its batches changed (``dirty``), when each waiting input was accepted and which
rank and segment moves go to the trusts' histories; a write rebuilds only those leagues, from the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timezone

from services.scoring import metrics
from services.scoring.worker import ScoringWorker
from shared.league_cache import LeagueCache


class FlushPacer:
    """Keeps Redis writes to at most ``share`` of the worker's time.

    A write builds league snapshots and explanations on the consumer's event loop, so while it runs
    nothing is fetched or scored. Under light load writes are cheap and run on every tick (low latency);
    under heavy load each one waits ``cost x (1/share - 1)`` after the last, so it carries more inputs
    and costs less per input (throughput).
    """

    def __init__(self, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must lie in (0, 1]")
        self.rest = 1 / share - 1
        self.not_before = 0.0

    def due(self, now: float) -> bool:
        return now >= self.not_before

    def ran(self, started: float, finished: float) -> None:
        self.not_before = finished + (finished - started) * self.rest


#: Trusts explained between two yields to the event loop while a league is written.
EXPLAIN_CHUNK = 24


class ReadModelWriter:
    """Writes changed leagues. ``hold`` (the batcher's lock) keeps batches from changing the engine while a
    league is built; the build yields to the event loop every ``EXPLAIN_CHUNK`` trusts, so fetching,
    acknowledgements and health checks go on while a large league is written."""

    def __init__(self, worker: ScoringWorker, cache: LeagueCache | None,
                 hold: asyncio.Lock | None = None) -> None:
        self.worker = worker
        self.cache = cache
        self.hold = hold

    async def check(self) -> None:
        """Rewrite whole any league Redis lacks or holds at an older version (e.g. after a flush)."""
        if self.cache is None:
            return
        stored = await self.cache.versions()
        w = self.worker
        for pk, scorer in w.scorers.items():
            for league in scorer.leagues():
                if league not in stored or stored[league] < scorer.versions.get(league, 0):
                    if (pk, league) not in w.full:
                        metrics.CACHE_REBUILDS.labels("missing_or_stale").inc()
                    w.full.add((pk, league))

    async def write(self) -> int:
        """Write every changed league to Redis, the one whose input has waited longest first; returns
        how many leagues were written."""
        if self.cache is None:
            return 0
        w = self.worker
        written = 0
        oldest = lambda key: min(w.waiting.get(key[1]) or [float("inf")])  # noqa: E731
        for pk, league in sorted(w.dirty | w.full, key=lambda k: (oldest(k), k)):
            async with self.hold or contextlib.nullcontext():
                written += await self._write_league(pk, league)
            await asyncio.sleep(0)
        if w.history:
            history, w.history = w.history, []
            await self.cache.append_history(history)
        return written

    async def _write_league(self, pk: str, league: str) -> int:
        w = self.worker
        everything = (pk, league) in w.full
        w.dirty.discard((pk, league))
        w.full.discard((pk, league))
        waited = w.waiting.pop(league, [])
        scorer = w.scorers.get(pk)
        if scorer is None:
            return 0
        started = time.perf_counter()
        try:
            snapshot = scorer.snapshot(league)
            # Every explanation that differs from the one last written, not only the trusts that
            # changed: peers' moves shift a trust's rank range and positions too.
            explanations: dict = {}
            members = scorer.members(league)
            for i in range(0, len(members), EXPLAIN_CHUNK):
                explanations.update(scorer.changed_explanations(league, everything, members[i:i + EXPLAIN_CHUNK]))
                await asyncio.sleep(0)
            # force: a league whose metric scores moved without an event keeps its version but has a
            # new snapshot; the write still never lets a version go backwards.
            await self.cache.write_league(league, snapshot["version"], snapshot, explanations, force=True)
        except BaseException:
            w.full.add((pk, league))  # rewritten whole next time: what was not written is compared against nothing
            w.waiting[league][:0] = waited
            raise
        metrics.CACHE_WRITE_SECONDS.observe(time.perf_counter() - started)
        now = datetime.now(timezone.utc).timestamp()
        for accepted in waited:
            metrics.PROCESSING_LATENCY.observe(max(0.0, now - accepted))
        return 1
