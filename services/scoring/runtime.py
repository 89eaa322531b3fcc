"""The scoring worker's moving parts around the pure scorer: decode or dead-letter each record, apply it,
store state behind its outbox, send change events, make a batch durable before it is acknowledged,
coalesce Redis writes, and recover after a restart.

The faust app (app.py) hands batches of records in and provides the state store, the sender and the
cache; tests hand in in-memory twins of the same three things.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from services.scoring import metrics, state
from services.scoring.scorer import PartitionScorer
from services.scoring.store import StateStore
from shared.events import ChangeEvent, DeadLetter, decode_input
from shared.league_cache import LeagueCache
from shared.methodology import Methodology, MethodologyError
from shared.telemetry import correlation_id as correlation_var

log = logging.getLogger(__name__)

#: send(topic, key, value) -> an awaitable that completes when the broker acknowledged the record.
Send = Callable[[str, bytes, bytes], Awaitable[Awaitable[Any]]]


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class FlushPacer:
    """Keeps Redis writes to at most ``share`` of the worker's time.

    A flush builds league snapshots and explanations on the consumer's event loop, so while it runs
    nothing is fetched or scored. Under light load flushes are cheap and run on every tick (low
    latency); under heavy load each one waits ``cost x (1/share - 1)`` after the last, so it carries
    more inputs and costs less per input (throughput).
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


class ScoringRuntime:
    def __init__(self, methodology: Methodology, store: StateStore, send: Send, cache: LeagueCache | None,
                 changes_topic: str, input_partitions: int) -> None:
        self.m = methodology
        self.store = store
        self.send = send
        self.cache = cache
        self.changes_topic = changes_topic
        self.input_partitions = input_partitions
        self.scorers: dict[str, PartitionScorer] = {}
        self.applied: dict[tuple[str, int], int] = {}  # (topic, partition) -> last applied offset
        self.expected: dict[tuple[str, int], int] = {}  # (topic, partition) -> the next offset to apply
        self.gaps: dict[tuple[str, int], int] = {}  # partitions to seek back to their expected offset
        self.inflight: list[Awaitable[Any]] = []  # event and dead-letter sends of the current batch
        self.outboxed: list[tuple[int, str]] = []  # outbox entries of the current batch, deleted once sent
        self.dirty: set[tuple[str, str]] = set()  # (pk, league) changed since the last Redis write
        self.full: set[tuple[str, str]] = set()  # leagues to rewrite whole
        self.history: list[tuple[str, dict[str, Any]]] = []
        self.waiting: dict[str, list[float]] = defaultdict(list)  # league -> accepted_at of unwritten inputs

    def partition_of(self, pk: str) -> int:
        return state.partition_for(pk, self.input_partitions)

    # -- recovery --------------------------------------------------------------------------------
    def rebuild(self, owns_partition: Callable[[int], bool] = lambda p: True) -> None:
        """Rebuild the scorers of the partitions this worker owns from the recovered table."""
        self.scorers.clear()
        self.dirty.clear()
        items = list(self.store.items())
        self.applied = {tp: off for tp, off in state.applied_offsets(items).items() if owns_partition(tp[1])}
        owned = state.group_by_partition_key(items, owns=lambda pk: owns_partition(self.partition_of(pk)))
        for pk, stored in owned.items():
            scorer = self.scorers[pk] = PartitionScorer(self.m, pk, stored)
            for league in scorer.leagues():
                self.full.add((pk, league))
                metrics.LEAGUE_VERSION.labels(league).set(scorer.versions.get(league, 0))
        self.expected.clear()
        log.info("scorer state rebuilt", extra={"partition_keys": sorted(self.scorers),
                                                "applied_offsets": {f"{t}:{p}": o for (t, p), o in self.applied.items()}})

    def resume_from(self, earliest: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        """Where each owned input partition must be read from: after the last applied record, or
        its earliest retained record. Returns the offsets to seek to."""
        for tp, first in earliest.items():
            self.expected[tp] = max(self.applied.get(tp, -1) + 1, first)
        return dict(self.expected)

    async def resend_outbox(self) -> int:
        """Send again every event whose acknowledgement was not recorded: same ids, at least once."""
        count = 0
        for pk, scorer in sorted(self.scorers.items()):
            for (league, version), raw in sorted(scorer.pending_outbox.items()):
                events = state.decode_events(raw)
                await self._send_events(league, events)
                self.outboxed.append((self.partition_of(pk), state.outbox_key(pk, league, version)))
                count += len(events)
            scorer.pending_outbox.clear()
            for league, version in scorer.orphaned_outbox:
                self.store.delete(self.partition_of(pk), state.outbox_key(pk, league, version))
            scorer.orphaned_outbox.clear()
        await self.commit_batch()
        if count:
            log.warning("re-sent change events from the outbox after a restart", extra={"events": count})
        return count

    # -- the write path --------------------------------------------------------------------------
    async def handle(self, record: Record) -> None:
        """Apply one input record; its effects are durable only after ``commit_batch``."""
        tp = (record.topic, record.partition)
        expected = self.expected.get(tp, self.applied.get(tp, -1) + 1)
        if record.offset < expected:
            metrics.INPUTS.labels("any", "already_applied").inc()
            return
        if record.offset > expected and tp in self.expected:
            # Strict offset order per partition: a record past a gap waits until the gap is read again.
            self.gaps[tp] = expected
            return
        await self._handle(record)
        self.applied[tp] = record.offset
        self.expected[tp] = record.offset + 1
        self.store.put(record.partition, state.applied_key(record.topic, record.partition), str(record.offset).encode())

    async def commit_batch(self) -> None:
        """Wait until every state write and every send so far is acknowledged, then drop the outbox
        entries whose events are now on the topic."""
        # Take this moment's sends and outbox entries together: records handled while we wait are
        # the next call's business.
        inflight, self.inflight = self.inflight, []
        outboxed, self.outboxed = self.outboxed, []
        await self.store.sync()
        if inflight:
            await asyncio.gather(*inflight)
        for partition, key in outboxed:
            self.store.delete(partition, key)

    async def _handle(self, record: Record) -> None:
        try:
            event = decode_input(record.value or b"")
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first.get("loc", ())) or "record"
            return await self._dead_letter(record, f"undecodable: {field}: {first.get('msg')}", "undecodable")
        pk = (record.key or b"").decode(errors="replace")
        token = correlation_var.set(event.correlation_id)
        try:
            started = time.perf_counter()
            scorer = self.scorers.get(pk) or self.scorers.setdefault(pk, PartitionScorer(self.m, pk))
            outcome = scorer.apply(event)
            metrics.APPLY_SECONDS.observe(time.perf_counter() - started)
        except MethodologyError as exc:
            return await self._dead_letter(record, f"rejected by the methodology: {exc}", "invalid")
        except Exception as exc:  # a bug must not stop the worker: the record is kept for a replay
            log.exception("failed to score a record; dead-lettered")
            return await self._dead_letter(record, f"processing error: {type(exc).__name__}: {exc}", "error")
        finally:
            correlation_var.reset(token)
        for key, value in outcome.writes:  # the outbox entries come first: see state.py
            self.store.put(record.partition, key, value)
        for league, version in outcome.versions.items():
            events = [e for e in outcome.events if e.league == league]
            if events:
                await self._send_events(league, events)
                self.outboxed.append((record.partition, state.outbox_key(pk, league, version)))
            metrics.LEAGUE_VERSION.labels(league).set(version)
        for league in outcome.dirty:
            self.dirty.add((pk, league))
            self.waiting[league].append(event.accepted_at.timestamp())
        self.history.extend(outcome.history)
        metrics.INPUTS.labels(event.type, "applied" if outcome.events else "no_change").inc()

    async def _send_events(self, league: str, events: list[ChangeEvent]) -> None:
        for event in events:
            self.inflight.append(await self.send(self.changes_topic, league.encode(), event.to_bytes()))
            metrics.CHANGE_EVENTS.labels(event.type).inc()

    async def _dead_letter(self, record: Record, reason: str, label: str) -> None:
        letter = DeadLetter(
            source_topic=record.topic, partition=record.partition, offset=record.offset,
            key=None if record.key is None else record.key.decode(errors="replace"),
            value=(record.value or b"").decode(errors="replace"), reason=reason, service="scoring",
        )
        self.inflight.append(await self.send(f"{record.topic}.dlq", record.key or b"", letter.to_bytes()))
        metrics.DEAD_LETTERS.labels(record.topic, label).inc()
        log.warning("dead-lettered a record", extra={"topic": record.topic, "offset": record.offset, "reason": reason})

    # -- the read model --------------------------------------------------------------------------
    async def check_cache(self) -> None:
        """Rewrite whole any league Redis lacks or holds at an older version (e.g. after a flush)."""
        if self.cache is None:
            return
        stored = await self.cache.versions()
        for pk, scorer in self.scorers.items():
            for league in scorer.leagues():
                if league not in stored or stored[league] < scorer.versions.get(league, 0):
                    if (pk, league) not in self.full:
                        metrics.CACHE_REBUILDS.labels("missing_or_stale").inc()
                    self.full.add((pk, league))

    async def flush_cache(self) -> int:
        """Write every changed league to Redis; returns how many leagues were written."""
        if self.cache is None:
            return 0
        written = 0
        for pk, league in sorted(self.dirty | self.full):
            scorer = self.scorers.get(pk)
            if scorer is None:
                continue
            started = time.perf_counter()
            snapshot = scorer.snapshot(league)
            # Every explanation that differs from the one last written, not only the trusts that
            # changed: peers' moves shift a trust's rank range and positions too.
            explanations = scorer.changed_explanations(league, everything=(pk, league) in self.full)
            # force: a league whose metric scores moved without an event keeps its version but has a
            # new snapshot; the write still never lets a version go backwards.
            try:
                await self.cache.write_league(league, snapshot["version"], snapshot, explanations, force=True)
            except Exception:
                self.full.add((pk, league))  # what was not written is compared against nothing next time
                raise
            self.full.discard((pk, league))
            self.dirty.discard((pk, league))
            metrics.CACHE_WRITE_SECONDS.observe(time.perf_counter() - started)
            now = datetime.now(timezone.utc).timestamp()
            for accepted in self.waiting.pop(league, ()):
                metrics.PROCESSING_LATENCY.observe(max(0.0, now - accepted))
            written += 1
        if self.history:
            history, self.history = self.history, []
            await self.cache.append_history(history)
        return written
