"""The scoring worker's write path around the pure scorer: batches of input records in, per input
partition: decode or dead-letter each record, apply its inputs, make the batch durable with one commit
record (services/scoring/recorder.py), send its change events; and recovery after a restart.

The faust app (app.py) hands batches in and supplies the sink; tests hand in the in-memory twin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.scoring import metrics, state
from services.scoring.recorder import ProcessRecorder, Sink
from services.scoring.scorer import PartitionScorer
from shared.events import DeadLetter, decode_input, single_inputs
from shared.methodology import Methodology, MethodologyError
from shared.telemetry import correlation_id as correlation_var

log = logging.getLogger(__name__)

TP = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Applied:
    """What one call to ``process`` did: how many inputs it applied, and which records it could not place."""

    inputs: int = 0
    skipped: int = 0  # already applied (read again after a restart)
    unowned: int = 0  # of a partition this worker no longer owns (fetched before a revocation)
    gaps: dict[TP, int] = field(default_factory=dict)  # partition -> the offset it waits for
    held: dict[tuple[str, int, int], int] = field(default_factory=dict)  # (topic, partition, offset) -> inputs


class ScoringWorker:
    """Owns the partition scorers of the input partitions this process is assigned, and their positions."""

    def __init__(self, methodology: Methodology, recorder: ProcessRecorder, sink: Sink, changes_topic: str,
                 input_partitions: int, batch_events_max: int = 2000) -> None:
        self.m = methodology
        self.recorder = recorder
        self.sink = sink
        self.changes_topic = changes_topic
        self.input_partitions = input_partitions
        self.batch_events_max = batch_events_max
        self.scorers: dict[str, PartitionScorer] = {}
        self.commits: dict[int, state.CommitRecord] = {}  # partition -> its latest durable commit
        self.positions: dict[TP, int] = {}  # the next offset to apply, per owned input partition
        self.owned: set[int] = set()
        self.dirty: set[tuple[str, str]] = set()  # (pk, league) changed since the last Redis write
        self.full: set[tuple[str, str]] = set()  # leagues to rewrite whole
        #: (pk, league) -> (trust code, metric line or None for any) of the inputs applied since the league was
        #: last written (see Outcome.dirty)
        self.touched: dict[tuple[str, str], set[tuple[str, str | None]]] = defaultdict(set)
        #: pk -> rank and segment moves for the trusts' histories, taken by the writer of one of its leagues
        #: while it holds the partition's lock (so only moves of durable batches reach Redis)
        self.history: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        #: league -> (accepted_at, durable_at) of each input of a durable batch not yet written to Redis
        self.waiting: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def partition_of(self, pk: str) -> int:
        return state.partition_for(pk, self.input_partitions)

    # -- recovery --------------------------------------------------------------------------------
    def recover(self, owned: Iterable[int], input_topics: Iterable[str]) -> dict[TP, int | None]:
        """Rebuild the scorers of the owned partitions from the recorder's durable state; returns where
        each owned input partition resumes (None: nothing applied yet, so from its earliest record)."""
        self.owned = set(owned)
        table = self.recorder.recovered()
        self.scorers.clear()
        self.dirty.clear()
        self.touched.clear()
        self.commits = {p: c for p, c in state.latest_commits(table.items()).items() if p in self.owned}
        owns = lambda pk: self.partition_of(pk) in self.owned  # noqa: E731
        # Moves of durable batches not yet written stay with the partitions kept; a revoked partition's
        # go (no writer here holds its lock any more, and its new owner has its own).
        self.history = defaultdict(list, {pk: moves for pk, moves in self.history.items() if owns(pk)})
        for pk, stored in state.group_by_partition_key(table.items(), owns=owns).items():
            commit = self.commits.get(self.partition_of(pk))
            versions = {lg: v for lg, v in (commit.versions if commit else {}).items()}
            scorer = self.scorers[pk] = PartitionScorer(self.m, pk, stored, versions)
            for league in scorer.leagues():
                self.full.add((pk, league))
                metrics.LEAGUE_VERSION.labels(league).set(scorer.versions.get(league, 0))
        self.positions = {}
        resume: dict[TP, int | None] = {}
        for p in sorted(self.owned):
            commit = self.commits.get(p)
            for topic in input_topics:
                last = commit.offsets.get(topic) if commit else None
                resume[(topic, p)] = None if last is None else last + 1
                if last is not None:
                    self.positions[(topic, p)] = last + 1
        log.info("scorer state recovered", extra={
            "partition_keys": sorted(self.scorers), "partitions": sorted(self.owned),
            "resume_at": {f"{t}:{p}": o for (t, p), o in resume.items()}})
        return resume

    def start_at(self, tp: TP, offset: int) -> None:
        """Where a partition with nothing applied starts (its earliest retained record)."""
        self.positions.setdefault(tp, offset)

    def skip_to(self, tp: TP, offset: int) -> None:
        """The records before ``offset`` are gone from the topic (retention): continue from there."""
        if offset > self.positions.get(tp, -1):
            self.positions[tp] = offset

    async def redo_last_batches(self) -> int:
        """Finish each owned partition's last durable batch after a restart: write its state to the
        changelog again, then send its events and dead letters again (same ids: their acknowledgement
        may not have been recorded before the restart). Returns how many records it sent."""
        writes = []
        for commit in self.commits.values():
            writes += await self.recorder.rewrite(commit)
        await asyncio.gather(*writes)  # durable before any new commit record, which would hide them
        acks = []
        for commit in self.commits.values():
            for raw in commit.events:
                acks.append(await self.sink.send(self.changes_topic, _league_key(raw), raw))
            for topic, key, value in commit.dead_letters:
                acks.append(await self.sink.send(topic, key, value))
        await asyncio.gather(*acks)
        if writes or acks:
            log.info("finished the last durable batch of each partition after a restart",
                     extra={"state_writes": len(writes), "events": len(acks)})
        return len(writes) + len(acks)

    # -- the write path --------------------------------------------------------------------------
    async def process(self, records: Iterable[Record]) -> Applied:
        """Apply a batch of records, per input partition in offset order, and make it durable.

        A record below its partition's position was applied before and is skipped; one above it (a gap)
        is not applied and is reported, with every later record of that partition in the batch. A record
        of a partition this worker does not own (fetched before a revocation) is neither applied nor
        recorded: a commit record of it would overwrite its new owner's.
        """
        done = Applied()
        by_partition: dict[int, list[Record]] = defaultdict(list)
        for r in records:
            by_partition[r.partition].append(r)
        for partition, recs in sorted(by_partition.items()):
            if partition not in self.owned:  # fetched before a revocation: its new owner applies it
                done.unowned += len(recs)
                continue
            batch = _Batch()
            for r in recs:
                tp = (r.topic, r.partition)
                if tp in done.gaps:
                    continue
                expected = self.positions.get(tp)
                if expected is not None and r.offset < expected:
                    done.skipped += 1
                    continue
                if expected is not None and r.offset > expected:
                    done.gaps[tp] = expected
                    continue
                inputs = self._apply(r, batch)
                done.inputs += inputs
                done.held[(r.topic, r.partition, r.offset)] = inputs
                self.positions[tp] = r.offset + 1
                batch.offsets[r.topic] = r.offset
                if len(batch.events) >= self.batch_events_max:
                    await self._commit(partition, batch)
                    batch = _Batch()
            if batch.offsets:
                await self._commit(partition, batch)
        if done.skipped:
            metrics.INPUTS.labels("any", "already_applied").inc(done.skipped)
        if done.unowned:
            metrics.INPUTS.labels("any", "not_owned").inc(done.unowned)
        return done

    def _apply(self, record: Record, batch: _Batch) -> int:
        """Apply (or dead-letter) every input a record holds; returns how many it held."""
        try:
            event = decode_input(record.value or b"")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "record"
            self._dead_letter(record, record.value or b"", f"undecodable: {where}: {first.get('msg')}",
                              "undecodable", batch)
            return 1
        pk = (record.key or b"").decode(errors="replace")
        if self.partition_of(pk) != record.partition:
            # Another partition's engine owns this key: applying it here would score one league in two
            # engines (two version sequences, clashing event ids) and lock the wrong partition for its writes.
            self._dead_letter(record, record.value or b"", f"misrouted: key {pk!r} belongs on partition "
                              f"{self.partition_of(pk)}, not {record.partition}", "misrouted", batch)
            return 1
        scorer = self.scorers.get(pk) or self.scorers.setdefault(pk, PartitionScorer(self.m, pk))
        items = single_inputs(event)
        for item in items:
            token = correlation_var.set(item.correlation_id)
            try:
                if (owner := self.m.partition_key(item.trust.trust_type)) != pk:
                    self._dead_letter(record, item.to_bytes(), f"misrouted: trust {item.trust.code}'s inputs are "
                                      f"keyed {owner!r}, not {pk!r}", "misrouted", batch)
                    continue
                started = time.perf_counter()
                outcome = scorer.apply(item)
                metrics.APPLY_SECONDS.observe(time.perf_counter() - started)
            except MethodologyError as exc:
                self._dead_letter(record, item.to_bytes(), f"rejected by the methodology: {exc}", "invalid", batch)
                continue
            except Exception as exc:  # a bug must not stop the worker: the input is kept for a replay
                log.exception("failed to score an input; dead-lettered")
                self._dead_letter(record, item.to_bytes(), f"processing error: {type(exc).__name__}: {exc}",
                                  "error", batch)
                continue
            finally:
                correlation_var.reset(token)
            batch.writes.update(outcome.writes)
            for e in outcome.events:
                batch.events.append(e.to_bytes())
                batch.counts[("event", e.type)] += 1
            batch.versions.update(outcome.versions)
            for league, codes in outcome.dirty.items():
                self.dirty.add((pk, league))
                self.touched[(pk, league)] |= codes
                batch.accepted[league].append(item.accepted_at.timestamp())
            if outcome.history:
                self.history[pk].extend(outcome.history)
            batch.counts[(item.type, "applied" if outcome.events else "no_change")] += 1
        return len(items)

    def _dead_letter(self, record: Record, value: bytes, reason: str, label: str, batch: _Batch) -> None:
        letter = DeadLetter(
            source_topic=record.topic, partition=record.partition, offset=record.offset,
            key=None if record.key is None else record.key.decode(errors="replace"),
            value=value.decode(errors="replace"), reason=reason, service="scoring",
        )
        batch.dead_letters.append((f"{record.topic}.dlq", record.key or b"", letter.to_bytes()))
        metrics.DEAD_LETTERS.labels(record.topic, label).inc()
        log.warning("dead-lettered an input", extra={"topic": record.topic, "offset": record.offset, "reason": reason})

    async def _commit(self, partition: int, batch: _Batch) -> None:
        last = self.commits.get(partition)
        versions = dict(last.versions) if last else {}
        for pk, scorer in self.scorers.items():
            if self.partition_of(pk) == partition:
                versions.update(scorer.versions)
        commit = state.CommitRecord(
            partition=partition, batch=(last.batch + 1) if last else 1,
            offsets={**(last.offsets if last else {}), **batch.offsets}, versions=versions,
            writes=list(batch.writes.items()), events=batch.events, dead_letters=batch.dead_letters)
        # The commit record is durable before any of its events leaves: an event on nof.changes.v1 then
        # always belongs to a durable batch, and is re-sent from it, byte for byte, after a crash. A
        # batch that never became durable is read again, and may interleave a league's two input
        # topics differently, so its events may differ: none of them was sent.
        await asyncio.gather(*await self.recorder.record(commit))
        metrics.OUTBOX_PENDING.inc(len(commit.events))
        try:
            acks = [await self.sink.send(self.changes_topic, _league_key(raw), raw) for raw in commit.events]
            acks += [await self.sink.send(topic, key, value) for topic, key, value in commit.dead_letters]
            await asyncio.gather(*acks)
        finally:
            metrics.OUTBOX_PENDING.dec(len(commit.events))
        self.commits[partition] = commit
        durable = time.time()
        for league, accepted in batch.accepted.items():
            self.waiting[league].extend((at, durable) for at in accepted)
        metrics.BATCH_INPUTS.observe(len(batch.writes))
        batch.count_into_metrics()


class _Batch:
    __slots__ = ("offsets", "writes", "events", "dead_letters", "counts", "versions", "accepted")

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}
        self.writes: dict[str, bytes] = {}  # key -> latest value in this batch (insertion ordered)
        self.events: list[bytes] = []
        self.dead_letters: list[tuple[str, bytes, bytes]] = []
        # Counted per batch, not per input: a labelled metric costs microseconds an update.
        self.counts: Counter[tuple[str, str]] = Counter()  # (input type, outcome) or ("event", event type)
        self.versions: dict[str, int] = {}  # league -> its version after the batch
        self.accepted: dict[str, list[float]] = defaultdict(list)  # league -> accepted_at of its applied inputs

    def count_into_metrics(self) -> None:
        """Add what the batch applied to the metrics (once it is durable)."""
        for (kind, label), n in self.counts.items():
            (metrics.CHANGE_EVENTS.labels(label) if kind == "event" else metrics.INPUTS.labels(kind, label)).inc(n)
        for league, version in self.versions.items():
            metrics.LEAGUE_VERSION.labels(league).set(version)


def _league_key(raw_event: bytes) -> bytes:
    """nof.changes.v1 is keyed by league; read it from the event JSON without a full decode."""
    start = raw_event.index(b'"league":"') + 10
    return raw_event[start:raw_event.index(b'"', start)]

