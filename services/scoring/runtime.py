"""The scoring worker's moving parts around the pure scorer: decode or dead-letter each record, apply it,
store state behind its outbox, send change events, coalesce Redis writes, recover after a restart.

The faust app (app.py) hands records in and provides the table, the topic sender and the cache;
tests hand in in-memory twins of the same three things.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from services.scoring import metrics, state
from services.scoring.scorer import PartitionScorer
from shared.events import ChangeEvent, DeadLetter, decode_input
from shared.league_cache import LeagueCache
from shared.methodology import Methodology, MethodologyError, league_of
from shared.telemetry import correlation_id as correlation_var

log = logging.getLogger(__name__)

#: send(topic, key, value, on_ack) -> awaitable; on_ack() runs once the broker acknowledged the record.
Send = Callable[[str, bytes, bytes, Callable[[], None] | None], Awaitable[None]]


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class ScoringRuntime:
    def __init__(self, methodology: Methodology, table: MutableMapping[str, bytes], send: Send,
                 cache: LeagueCache | None, changes_topic: str) -> None:
        self.m = methodology
        self.table = table
        self.send = send
        self.cache = cache
        self.changes_topic = changes_topic
        self.scorers: dict[str, PartitionScorer] = {}
        self.partition_of: dict[str, int] = {}  # pk -> input partition its state is written from
        self.unacked: dict[tuple[str, str, int], int] = {}  # outbox entry -> events still awaiting acks
        self.acked: dict[int, list[str]] = defaultdict(list)  # partition -> outbox keys safe to delete
        self.dirty: dict[tuple[str, str], set[str]] = defaultdict(set)  # (pk, league) -> trust codes
        self.full: set[tuple[str, str]] = set()  # leagues to rewrite whole
        self.history: list[tuple[str, dict[str, Any]]] = []
        self.waiting: dict[str, list[float]] = defaultdict(list)  # league -> accepted_at of unwritten inputs

    # -- recovery --------------------------------------------------------------------------------
    def rebuild(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Rebuild every scorer from the table (after recovery or a rebalance); keep outboxes to re-send."""
        self.scorers.clear()
        self.dirty.clear()
        for pk, stored in state.group_by_partition_key(items).items():
            scorer = self.scorers[pk] = PartitionScorer(self.m, pk, stored)
            for league in scorer.leagues():
                self.full.add((pk, league))
                metrics.LEAGUE_VERSION.labels(league).set(scorer.versions.get(league, 0))
        log.info("scorer state rebuilt", extra={"partition_keys": sorted(self.scorers)})

    async def resend_outbox(self) -> int:
        """Send again every event whose acknowledgement was not recorded: same ids, at least once."""
        count = 0
        for pk, scorer in sorted(self.scorers.items()):
            for (league, version), raw in sorted(scorer.pending_outbox.items()):
                events = state.decode_events(raw)
                await self._send_events(pk, league, version, events, ack_tracking=False)
                count += len(events)
            scorer.pending_outbox.clear()
        if count:
            log.warning("re-sent change events from the outbox after a restart", extra={"events": count})
        return count

    # -- the write path --------------------------------------------------------------------------
    async def handle(self, record: Record) -> None:
        self._delete_acked(record.partition)
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
        self.partition_of[pk] = record.partition
        for key, value in outcome.writes:
            self.table[key] = value
        for league, version in outcome.versions.items():
            events = [e for e in outcome.events if e.league == league]
            await self._send_events(pk, league, version, events, ack_tracking=True)
            metrics.LEAGUE_VERSION.labels(league).set(version)
        for league, codes in outcome.dirty.items():
            self.dirty[(pk, league)].update(codes)
            self.waiting[league].append(event.accepted_at.timestamp())
        self.history.extend(outcome.history)
        metrics.INPUTS.labels(event.type, "applied" if outcome.events else "no_change").inc()

    async def _send_events(self, pk: str, league: str, version: int, events: list[ChangeEvent],
                           ack_tracking: bool) -> None:
        if not events:
            return
        key = (pk, league, version)
        if ack_tracking:
            self.unacked[key] = len(events)
            metrics.OUTBOX_PENDING.set(len(self.unacked))
        for event in events:
            on_ack = (lambda k=key: self._acked(k)) if ack_tracking else None
            await self.send(self.changes_topic, league.encode(), event.to_bytes(), on_ack)
            metrics.CHANGE_EVENTS.labels(event.type).inc()

    def _acked(self, key: tuple[str, str, int]) -> None:
        left = self.unacked.get(key, 0) - 1
        if left > 0:
            self.unacked[key] = left
            return
        self.unacked.pop(key, None)
        metrics.OUTBOX_PENDING.set(len(self.unacked))
        pk, league, version = key
        partition = self.partition_of.get(pk)
        if partition is not None:
            self.acked[partition].append(state.outbox_key(pk, league, version))

    def _delete_acked(self, partition: int) -> None:
        # Tombstones must go to the changelog partition the outbox entry was written to, which is the
        # partition of the record being handled: so only delete entries written from this partition.
        for key in self.acked.pop(partition, ()):
            self.table.pop(key, None)

    async def _dead_letter(self, record: Record, reason: str, label: str) -> None:
        letter = DeadLetter(
            source_topic=record.topic, partition=record.partition, offset=record.offset,
            key=None if record.key is None else record.key.decode(errors="replace"),
            value=(record.value or b"").decode(errors="replace"), reason=reason, service="scoring",
        )
        await self.send(f"{record.topic}.dlq", record.key or b"", letter.to_bytes(), None)
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
                if stored.get(league, -1) < scorer.versions.get(league, 0) or league not in stored:
                    if (pk, league) not in self.full:
                        metrics.CACHE_REBUILDS.labels("missing_or_stale").inc()
                    self.full.add((pk, league))

    async def flush_cache(self) -> int:
        """Write every changed league to Redis; returns how many leagues were written."""
        if self.cache is None:
            return 0
        targets = set(self.dirty) | self.full
        written = 0
        for pk, league in sorted(targets):
            scorer = self.scorers.get(pk)
            if scorer is None:
                continue
            started = time.perf_counter()
            whole = (pk, league) in self.full
            codes = {c for c, r in scorer.trusts.items() if league_of(r.trust_type) == league} if whole \
                else self.dirty.get((pk, league), set())
            snapshot = scorer.snapshot(league)
            explanations = {code: scorer.explanation(code) for code in codes}
            await self.cache.write_league(league, snapshot["version"], snapshot, explanations, force=whole)
            self.full.discard((pk, league))
            self.dirty.pop((pk, league), None)
            metrics.CACHE_WRITE_SECONDS.observe(time.perf_counter() - started)
            now = datetime.now(timezone.utc).timestamp()
            for accepted in self.waiting.pop(league, ()):
                metrics.PROCESSING_LATENCY.observe(max(0.0, now - accepted))
            written += 1
        if self.history:
            history, self.history = self.history, []
            await self.cache.append_history(history)
        return written
