"""League writes to Redis: each league on its own task, holding only its own input partition; and where an
input's time goes before its league is written."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from services.scoring.batcher import Batcher
from services.scoring.read_model import CHUNK, ReadModelWriter
from services.scoring.recorder import MemoryBroker, ProcessRecorder
from services.scoring.stages import StageClock
from services.scoring.worker import Record, ScoringWorker
from shared.methodology import get_methodology
from tests.support import inputs

M = get_methodology()
PARTITIONS = 6


class GatedCache:
    """Redis twin whose write of one league waits for a gate; records what was written."""

    def __init__(self, gated: str) -> None:
        self.gated, self.gate = gated, asyncio.Event()
        self.written: list[tuple[str, int]] = []
        self.history: list[str] = []  # trust codes of the history entries appended

    async def write_league(self, league, version, snapshot, explanations, force=False):  # noqa: ANN001
        if league == self.gated:
            await self.gate.wait()
        self.written.append((league, version))
        return True

    async def append_history(self, entries) -> None:  # noqa: ANN001
        self.history += [code for code, _ in entries]

    async def versions(self) -> dict[str, int]:
        return {}


class Ev:
    def __init__(self, record: Record) -> None:
        self.record, self.acked = record, False

    def ack(self) -> None:
        self.acked = True


def record(league: str, offset: int, value: float) -> Record:
    code = inputs.members(league)[offset % 3]
    event = inputs.observation(code, inputs.scored_metric(code), value, f"{league}-{offset}")
    pk = M.partition_key(event.trust.trust_type)
    return Record("obs", ScoringWorker.partition_of(worker_for_keys, pk), offset, pk.encode(), event.to_bytes())


worker_for_keys = ScoringWorker(M, None, None, "changes", PARTITIONS)  # only its partition_of is used


def owning_every_partition() -> ScoringWorker:
    """A worker on the in-memory broker that owns every input partition, each starting at offset 0."""
    broker = MemoryBroker()
    worker = ScoringWorker(M, ProcessRecorder(broker, "changelog", {}), broker, "changes", PARTITIONS)
    for tp, _ in worker.recover(range(PARTITIONS), ("obs",)).items():
        worker.start_at(tp, 0)
    return worker


async def test_a_league_being_written_holds_up_only_its_own_partitions_batches():
    worker = owning_every_partition()

    async def process(events):
        await worker.process([e.record for e in events])

    batchers = {p: Batcher(process, 1, 10**6, 1.0) for p in range(PARTITIONS)}
    cache = GatedCache("acute")
    writer = ReadModelWriter(worker, cache, hold=lambda pk: batchers[worker.partition_of(pk)].lock)

    async def add(r: Record) -> Ev:
        ev = Ev(r)
        await batchers[r.partition].add(ev, 1, now=0.0)
        await batchers[r.partition].idle()
        return ev

    await add(record("acute", 0, 70.0))
    await add(record("ambulance", 0, 70.0))
    tasks = writer.start_due(now=0.0)
    await asyncio.sleep(0.01)  # acute's write now waits on Redis, holding acute's partition
    assert cache.written == [("ambulance", worker.scorers["ambulance"].versions.get("ambulance", 0))]

    # Another ambulance input goes through and is written while acute's write is still in flight ...
    amb = await asyncio.wait_for(add(record("ambulance", 1, 10.0)), timeout=1)
    assert amb.acked
    writer.start_due(now=time.monotonic() + 10)  # past the pacer's rest after the first write
    await asyncio.sleep(0.01)
    assert [lg for lg, _ in cache.written] == ["ambulance", "ambulance"]
    # ... while an acute input waits for its league's write to finish.
    acute = asyncio.ensure_future(add(record("acute", 1, 10.0)))
    await asyncio.sleep(0.01)
    assert not acute.done()
    cache.gate.set()
    await asyncio.wait_for(acute, timeout=1)
    await asyncio.gather(*tasks)
    await writer.write()
    assert [lg for lg, _ in cache.written].count("acute") == 2 and not writer.writing


class DownCache(GatedCache):
    def __init__(self) -> None:
        super().__init__(gated="")
        self.down = True

    async def write_league(self, league, version, snapshot, explanations, force=False):  # noqa: ANN001
        if self.down:
            raise ConnectionError("Redis is down")
        return await super().write_league(league, version, snapshot, explanations, force)


async def test_a_failed_write_is_counted_and_retried_after_a_pause_not_on_every_tick():
    from services.scoring import metrics
    from services.scoring.read_model import RETRY_AFTER_FAILURE_S

    worker = owning_every_partition()
    await worker.process([record("ambulance", 0, 70.0)])
    cache = DownCache()
    writer = ReadModelWriter(worker, cache)
    failures = metrics.CACHE_WRITE_FAILURES.labels("ambulance")
    before = failures._value.get()
    now = time.monotonic()
    await asyncio.gather(*writer.start_due(now))
    assert failures._value.get() == before + 1 and ("ambulance", "ambulance") in worker.full
    assert writer.start_due(now + RETRY_AFTER_FAILURE_S / 2) == []  # no retry on every tick
    cache.down = False
    await asyncio.gather(*writer.start_due(time.monotonic() + RETRY_AFTER_FAILURE_S))
    assert [lg for lg, _ in cache.written] == ["ambulance"] and not worker.full and not worker.dirty


async def test_stopping_the_writer_cancels_writes_in_flight_and_keeps_their_leagues_to_rewrite():
    worker = owning_every_partition()
    await worker.process([record("acute", 0, 70.0)])
    cache = GatedCache("acute")  # Redis that never answers for acute
    writer = ReadModelWriter(worker, cache)
    writer.start_due(now=0.0)
    await asyncio.sleep(0.01)
    assert writer.writing
    await asyncio.wait_for(writer.stop(), timeout=1)  # does not wait for the hung write
    assert not writer.writing and ("acute", "acute") in worker.full and cache.written == []


async def test_a_partitions_history_moves_reach_redis_only_with_its_own_leagues_once_its_batch_is_done():
    worker = owning_every_partition()
    await worker.process([record("acute", 0, 70.0), record("ambulance", 0, 70.0)])
    worker.history["acute"].append(("ACUTE1", {"type": "rank.changed"}))
    worker.history["ambulance"].append(("AMB1", {"type": "rank.changed"}))
    locks = {p: asyncio.Lock() for p in range(PARTITIONS)}
    cache = GatedCache(gated="")
    writer = ReadModelWriter(worker, cache, hold=lambda pk: locks[worker.partition_of(pk)])
    acute_batch = locks[worker.partition_of("acute")]
    await acute_batch.acquire()  # an acute batch is in flight: its moves are not durable yet
    tasks = writer.start_due(now=0.0)
    await asyncio.sleep(0.01)
    assert [lg for lg, _ in cache.written] == ["ambulance"] and cache.history == ["AMB1"]
    acute_batch.release()
    await asyncio.gather(*tasks)
    assert cache.history == ["AMB1", "ACUTE1"] and not worker.history


def test_a_revoked_partitions_unwritten_history_moves_are_dropped_and_a_kept_ones_stay():
    worker = owning_every_partition()
    worker.history["acute"].append(("ACUTE1", {"type": "rank.changed"}))
    worker.history["ambulance"].append(("AMB1", {"type": "rank.changed"}))
    worker.recover({worker.partition_of("ambulance")}, ("obs",))
    assert dict(worker.history) == {"ambulance": [("AMB1", {"type": "rank.changed"})]}
    worker.history["ambulance"].append(("AMB2", {"type": "rank.changed"}))  # still a list per key
    assert len(worker.history["ambulance"]) == 2


async def test_a_large_league_write_lets_other_tasks_run_while_its_results_are_built():
    worker = owning_every_partition()
    codes = inputs.members("acute")[:60]
    pk = M.partition_key(inputs.ref(codes[0]).trust_type)
    part = worker.partition_of(pk)
    await worker.process([
        Record("obs", part, n, pk.encode(),
               inputs.observation(code, inputs.scored_metric(code), 10.0 + n, f"big-{n}").to_bytes())
        for n, code in enumerate(codes)])
    cache = GatedCache(gated="")
    writer = ReadModelWriter(worker, cache)
    scorer = worker.scorers[pk]
    turns = 0  # how often another task ran during the write
    turns_before_snapshot = []  # ... by the time the built results were read (explanations come after)
    snapshot = scorer.snapshot

    def reading_snapshot(league: str) -> dict:
        turns_before_snapshot.append(turns)
        return snapshot(league)

    scorer.snapshot = reading_snapshot

    async def other_task() -> None:
        nonlocal turns
        while not cache.written:
            turns += 1
            await asyncio.sleep(0)

    other = asyncio.ensure_future(other_task())
    await asyncio.gather(*writer.start_due(now=0.0))
    await other
    assert cache.written == [("acute", scorer.versions["acute"])]
    # The other task ran between chunks of the results being rebuilt, not only between explanations.
    assert turns_before_snapshot[0] >= 60 // CHUNK


def stage(name: str, sample: str) -> float:
    return REGISTRY.get_sample_value(f"nof_scoring_input_stage_seconds_{sample}", {"stage": name}) or 0.0


async def test_an_inputs_wait_is_timed_from_its_batch_being_durable_to_its_league_written():
    worker = owning_every_partition()
    before = time.time()
    await worker.process([record("ambulance", n, 10.0 + n) for n in range(3)])
    after = time.time()
    waiting = worker.waiting["ambulance"]
    assert len(waiting) == 3
    for accepted, durable in waiting:  # each input's acceptance by ingest, and its batch made durable here
        assert accepted <= durable and before <= durable <= after
    count, total = stage("write", "count"), stage("write", "sum")
    await ReadModelWriter(worker, GatedCache(gated="")).write()
    assert stage("write", "count") == count + 3
    assert 0 <= stage("write", "sum") - total <= 3 * (time.time() - before)
    assert "ambulance" not in worker.waiting


class Msg:
    def __init__(self, offset: int, timestamp: float) -> None:
        self.topic, self.partition, self.offset, self.timestamp = "obs", 0, offset, timestamp


class Fetched:
    def __init__(self, offset: int, timestamp: float) -> None:
        self.message = Msg(offset, timestamp)


def test_a_records_fetch_batch_and_commit_stages_are_observed_once():
    events = [Fetched(0, 100.0), Fetched(1, 100.5), Fetched(2, 0)]  # offset 2: no timestamp from the broker
    clock = StageClock()
    for event, at in zip(events, (100.25, 100.75, 100.75)):
        clock.received(event.message, at=at)
    clock.received(Msg(9, 98.0), at=99.0)  # another batch's record
    was = {(s, k): stage(s, k) for s in ("fetch", "batch", "commit") for k in ("count", "sum")}
    clock.durable(events, started=101.0, finished=101.5)
    grew = {key: stage(*key) - value for key, value in was.items()}
    assert grew[("fetch", "count")] == 2 and grew[("fetch", "sum")] == pytest.approx(0.5)  # 0.25 each
    assert grew[("batch", "count")] == 3 and grew[("batch", "sum")] == pytest.approx(0.75 + 0.25 + 0.25)
    assert grew[("commit", "count")] == 3 and grew[("commit", "sum")] == pytest.approx(1.5)
    assert clock.arrived == {("obs", 0, 9): 99.0}  # taken out; another batch's record stays
