"""The scorer's Redis writes: each changed league written whole (snapshot and changed explanations),
paced so its writes never take more than a set share of the worker's time, and lost leagues rewritten.

The worker marks what its batches changed (``dirty``, and the trusts whose own inputs arrived in
``touched``), when each waiting input was accepted and made durable, and which rank and segment moves go
to the trusts' histories; a write rebuilds only those leagues, from the engine.

Leagues are written independently: each write holds only its own input partition's lock (``hold``),
so a large league being built never holds up another league's batches or writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

from services.scoring import metrics
from services.scoring.worker import ScoringWorker
from shared.league_cache import LeagueCache

log = logging.getLogger(__name__)

LeagueKey = tuple[str, str]  # (partition key, league)


class FlushPacer:
    """Keeps one league's Redis writes to at most ``share`` of the worker's time.

    A write builds the league's snapshot and explanations on the consumer's event loop. Under light
    load writes are cheap and run on every tick (low latency); under heavy load each one waits
    ``cost x (1/share - 1)`` after the last, so it carries more inputs and costs less per input
    (throughput).

    The cost is the time the write itself held the loop (``busy``), not how long it took from start to
    end: a write yields between its steps, and what other tasks do meanwhile is not its cost. Counting
    it would space writes further apart the busier the worker is, each write would then carry more
    inputs and cost more, and latency would feed on itself.
    """

    def __init__(self, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must lie in (0, 1]")
        self.rest = 1 / share - 1
        self.not_before = 0.0

    def due(self, now: float) -> bool:
        return now >= self.not_before

    def ran(self, busy: float, finished: float) -> None:
        """A write that held the loop for ``busy`` seconds in all ended at ``finished``."""
        self.not_before = finished + busy * self.rest


#: How long a league whose write failed (Redis down, say) waits before it is tried again.
RETRY_AFTER_FAILURE_S = 1.0

#: Trusts whose results are rebuilt, or that are explained, between two yields to the event loop while a
#: league is written: no step of a write holds the loop for more than a few milliseconds.
CHUNK = 24


class ReadModelWriter:
    """Writes changed leagues, each one on its own task.

    ``hold(pk)`` is the lock of the partition key's input partition: it keeps batches from changing that
    engine while its league is built. The build yields to the event loop every ``CHUNK`` trusts,
    so fetching, other partitions' batches, acknowledgements and health checks go on meanwhile.
    """

    def __init__(self, worker: ScoringWorker, cache: LeagueCache | None,
                 hold: Callable[[str], asyncio.Lock] | None = None, share: float = 1.0) -> None:
        self.worker = worker
        self.cache = cache
        self.hold = hold
        self.share = share
        self.pacers: dict[LeagueKey, FlushPacer] = {}
        self.writing: dict[LeagueKey, asyncio.Task] = {}

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

    def start_due(self, now: float) -> list[asyncio.Task]:
        """Start writing every changed league whose pacer allows it and that is not being written; the
        one whose input has waited longest first. Returns the tasks started."""
        if self.cache is None:
            return []
        w = self.worker
        oldest = lambda key: min((at for at, _ in w.waiting.get(key[1], ())), default=float("inf"))  # noqa: E731
        started = []
        for key in sorted(w.dirty | w.full, key=lambda k: (oldest(k), k)):
            if key in self.writing or not self._pacer(key).due(now):
                continue
            task = self.writing[key] = asyncio.ensure_future(self._run(key))
            started.append(task)
        return started

    async def write(self) -> int:
        """Write every changed league now, ignoring the pacers (and waiting for writes in flight); returns how
        many leagues this call wrote."""
        await self.idle()
        if self.cache is None:
            return 0
        w = self.worker
        written = 0
        for key in sorted(w.dirty | w.full):
            written += await self._write_held(key)
        return written

    async def idle(self) -> None:
        """Wait until no league write is in flight."""
        while self.writing:
            await asyncio.gather(*self.writing.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the league writes in flight and wait until they are gone (before a rebuild: a cancelled
        league is marked to be rewritten whole, and a rebuild rewrites every league anyway)."""
        for task in list(self.writing.values()):
            task.cancel()
        await self.idle()

    def _pacer(self, key: LeagueKey) -> FlushPacer:
        pacer = self.pacers.get(key)
        if pacer is None:
            pacer = self.pacers[key] = FlushPacer(self.share)
        return pacer

    async def _run(self, key: LeagueKey) -> None:
        try:
            await self._write_held(key)
        except asyncio.CancelledError:
            raise
        except Exception:  # the league is marked to be rewritten whole and tried again after a pause
            metrics.CACHE_WRITE_FAILURES.labels(key[1]).inc()
            self._pacer(key).not_before = time.monotonic() + RETRY_AFTER_FAILURE_S
            log.warning("writing a league to Redis failed; it is rewritten whole in %.0f s", RETRY_AFTER_FAILURE_S,
                        extra={"league": key[1]}, exc_info=True)
        finally:
            self.writing.pop(key, None)

    async def _write_held(self, key: LeagueKey) -> int:
        async with self.hold(key[0]) if self.hold else contextlib.nullcontext():
            written, busy = await self._write_league(*key)
            self._pacer(key).ran(busy, time.monotonic())
            history = self.worker.history.pop(key[0], None)  # taken under the lock: only durable batches' moves
        if history:
            await self.cache.append_history(history)
        return written

    async def _write_league(self, pk: str, league: str) -> tuple[int, float]:
        """Write one league; returns whether it wrote it (0 or 1) and how long it held the loop, in seconds
        (its steps between yields, and its Redis write)."""
        w = self.worker
        everything = (pk, league) in w.full
        w.dirty.discard((pk, league))
        w.full.discard((pk, league))
        touched = w.touched.pop((pk, league), set())
        waited = w.waiting.pop(league, [])
        scorer = w.scorers.get(pk)
        if scorer is None:
            return 0, 0.0
        started = step = time.perf_counter()
        busy = 0.0
        try:
            for _ in scorer.build(league, CHUNK):  # the league's results, a chunk of rebuilt trusts at a time
                busy += time.perf_counter() - step
                await asyncio.sleep(0)
                step = time.perf_counter()
            snapshot = scorer.snapshot(league)
            # Only trusts whose explanation may differ from the one last written are explained again:
            # a peer's move can shift a trust's rank range, rank reason or a metric line's position, so
            # candidates are found from the engine's results and lines, not only from the trusts that sent.
            explanations: dict = {}
            plan = scorer.explanation_plan(league, everything, touched)
            for i in range(0, len(plan.codes), CHUNK):
                explanations.update(scorer.changed_explanations(league, everything, plan.codes[i:i + CHUNK],
                                                                plan.known))
                busy += time.perf_counter() - step
                await asyncio.sleep(0)
                step = time.perf_counter()
            # force: a league whose metric scores moved without an event keeps its version but has a
            # new snapshot; the write still never lets a version go backwards.
            await self.cache.write_league(league, snapshot["version"], snapshot, explanations, force=True)
            busy += time.perf_counter() - step  # encoding, and the Redis round trip (counted whole)
        except BaseException:
            w.full.add((pk, league))  # rewritten whole next time: what was not written is compared against nothing
            w.waiting[league][:0] = waited
            raise
        metrics.CACHE_WRITE_SECONDS.labels(league).observe(time.perf_counter() - started)
        metrics.CACHE_WRITE_BUSY_SECONDS.labels(league).observe(busy)
        now = datetime.now(timezone.utc).timestamp()
        latency = metrics.PROCESSING_LATENCY.labels(league)
        write_stage = metrics.INPUT_STAGE_SECONDS.labels("write")
        for accepted, durable in waited:
            latency.observe(max(0.0, now - accepted))
            write_stage.observe(max(0.0, now - durable))
        return 1, busy
