"""The scorer's Redis writes: changed leagues written whole (snapshot and changed explanations), paced so
they never take more than a set share of the worker's time, and lost leagues rewritten.

The worker marks what its batches changed (``dirty``), when each waiting input was accepted and which
rank and segment moves go to the trusts' histories; a write rebuilds only those leagues, from the engine.
"""

from __future__ import annotations

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


class ReadModelWriter:
    def __init__(self, worker: ScoringWorker, cache: LeagueCache | None) -> None:
        self.worker = worker
        self.cache = cache

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
        """Write every changed league to Redis; returns how many leagues were written."""
        if self.cache is None:
            return 0
        w = self.worker
        written = 0
        for pk, league in sorted(w.dirty | w.full):
            scorer = w.scorers.get(pk)
            if scorer is None:
                w.dirty.discard((pk, league))
                w.full.discard((pk, league))
                continue
            started = time.perf_counter()
            snapshot = scorer.snapshot(league)
            # Every explanation that differs from the one last written, not only the trusts that
            # changed: peers' moves shift a trust's rank range and positions too.
            explanations = scorer.changed_explanations(league, everything=(pk, league) in w.full)
            # force: a league whose metric scores moved without an event keeps its version but has a
            # new snapshot; the write still never lets a version go backwards.
            try:
                await self.cache.write_league(league, snapshot["version"], snapshot, explanations, force=True)
            except Exception:
                w.full.add((pk, league))  # what was not written is compared against nothing next time
                raise
            w.full.discard((pk, league))
            w.dirty.discard((pk, league))
            metrics.CACHE_WRITE_SECONDS.observe(time.perf_counter() - started)
            now = datetime.now(timezone.utc).timestamp()
            for accepted in w.waiting.pop(league, ()):
                metrics.PROCESSING_LATENCY.observe(max(0.0, now - accepted))
            written += 1
        if w.history:
            history, w.history = w.history, []
            await self.cache.append_history(history)
        return written
