"""Positions, gaps and stalls: bounded, counted and visible."""

from __future__ import annotations

import asyncio

from services.scoring import metrics
from services.scoring.batcher import Batcher, PartitionBatchers
from services.scoring.gate import RebuildGate
from services.scoring.positions import Repositioner, commit_positions
from services.scoring.progress import Progress

TP = ("obs", 2)


class FakeConsumer:
    def __init__(self, earliest: int) -> None:
        self.earliest = earliest
        self.calls: list[tuple] = []

    async def earliest_offsets(self, *tps):
        return {tp: self.earliest for tp in tps}

    async def seek(self, tp, offset):
        self.calls.append(("seek", tp, offset))

    def pause_partitions(self, tps):
        self.calls.append(("pause", *tps))

    def resume_partitions(self, tps):
        self.calls.append(("resume", *tps))


def counter(metric, *labels) -> float:
    return metric.labels(*labels)._value.get()


async def no_sleep(_s: float) -> None:
    await asyncio.sleep(0)


async def test_a_gap_is_sought_back_once_paused_and_counted():
    consumer, skipped = FakeConsumer(earliest=0), []
    r = Repositioner(consumer, lambda t, p: (t, p), lambda tp: 40, lambda tp, o: skipped.append(o), 0.01, no_sleep)
    before = counter(metrics.REPOSITIONS, *map(str, TP))
    first = r.gap(TP, 40)
    assert r.gap(TP, 40) is None, "a second gap while the first is in hand starts nothing"
    await first
    assert consumer.calls == [("pause", TP), ("seek", TP, 40), ("resume", TP)]
    assert counter(metrics.REPOSITIONS, *map(str, TP)) == before + 1 and skipped == []
    assert r.gap(TP, 40) is not None, "once handled, a later gap is handled again"


async def test_records_deleted_by_retention_are_skipped_not_sought():
    consumer, skipped = FakeConsumer(earliest=90), []
    r = Repositioner(consumer, lambda t, p: (t, p), lambda tp: 40, lambda tp, o: skipped.append(o), 0.01, no_sleep)
    before = counter(metrics.RETENTION_SKIPS, *map(str, TP))
    await r.gap(TP, 40)
    assert consumer.calls == [] and skipped == [90]
    assert counter(metrics.RETENTION_SKIPS, *map(str, TP)) == before + 50


async def test_recovered_positions_become_the_groups_offsets():
    committed = {}

    async def commit(offsets):
        committed.update(offsets)
        return True

    assert await commit_positions(commit, lambda t, p: f"{t}:{p}", {("obs", 1): 7, ("st", 1): 0})
    assert committed == {"obs:1": 7, "st:1": 0}


def test_a_partition_stalls_only_while_records_wait_and_its_position_does_not_move():
    p = Progress(stall_after_s=30)
    p.track({TP: 10}, now=0)
    p.ends({TP: 10}, now=0)
    assert p.stalled(now=100) == [], "nothing waits: caught up is not stalled"
    p.ends({TP: 15}, now=100)
    assert p.lag(TP) == 5 and p.stalled(now=110) == [], "the wait counts from when records arrived, not from 0"
    p.track({TP: 12}, now=120)
    assert p.stalled(now=140) == []
    assert p.stalled(now=151) == [TP]
    assert metrics.STALLED.labels(*map(str, TP))._value.get() == 1
    p.track({TP: 15}, now=152)
    assert p.stalled(now=500) == [] and metrics.APPLIED_LAG.labels(*map(str, TP))._value.get() == 0


class Ev:
    def __init__(self, n: int = 0) -> None:
        self.n = n
        self.acked = False

    def ack(self) -> None:
        self.acked = True


async def test_a_batch_closes_at_its_bounds_and_acknowledges_only_after_processing():
    seen: list[int] = []

    async def process(events):
        assert not any(e.acked for e in events), "acknowledged before the batch was durable"
        seen.append(len(events))

    b = Batcher(process, max_records=3, max_bytes=100, within_s=0.5)
    events = [Ev() for _ in range(7)]
    for e in events[:3]:
        await b.add(e, 1, now=0.0)
    await b.idle()
    assert seen == [3] and all(e.acked for e in events[:3])
    await b.add(events[3], 200, now=1.0)  # over the byte bound on its own
    await b.idle()
    assert seen == [3, 1]
    await b.add(events[4], 1, now=2.0)
    await b.tick(now=2.4)
    await b.idle()
    assert seen == [3, 1]
    await b.tick(now=2.6)
    await b.idle()
    assert seen == [3, 1, 1] and events[4].acked


async def test_one_partition_has_one_batch_in_flight_and_keeps_its_order():
    release = asyncio.Event()
    seen: list[list[int]] = []

    async def process(events):
        await release.wait()
        seen.append([e.n for e in events])

    b = Batcher(process, max_records=2, max_bytes=100, within_s=0.5)
    events = [Ev(n) for n in range(5)]
    await b.add(events[0], 1, now=0.0)
    await b.add(events[1], 1, now=0.0)  # closes the first batch, which waits in process
    await asyncio.sleep(0)
    assert b.busy
    await b.add(events[2], 1, now=0.0)
    await b.tick(now=1.0)  # a batch is in flight: the tick leaves the filling one open, without waiting
    assert b.pending == [events[2]]
    adding = asyncio.ensure_future(b.add(events[3], 1, now=1.0))  # full again: waits for the one in flight
    await asyncio.sleep(0)
    assert not adding.done()
    release.set()
    await adding
    await b.add(events[4], 1, now=2.0)
    await b.flush()
    assert seen == [[0, 1], [2, 3], [4]] and all(e.acked for e in events)


async def test_a_batch_that_cannot_be_made_durable_is_not_acknowledged_and_stops_the_worker():
    failures = []

    async def process(events):
        raise RuntimeError("broker refused the commit record")

    b = Batcher(process, 1, 100, 1.0, on_failure=failures.append)
    e = Ev()
    await b.add(e, 1, now=0.0)
    await b.idle()
    assert not e.acked and len(failures) == 1 and isinstance(failures[0], RuntimeError)


async def test_closing_the_gate_stops_new_batches_and_waits_for_those_inside():
    gate = RebuildGate()
    gate.open()
    release, order = asyncio.Event(), []

    async def batch(name: str) -> None:
        async with gate.entered():
            order.append(f"{name} in")
            await release.wait()
            order.append(f"{name} out")

    first = asyncio.ensure_future(batch("first"))
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(gate.close())
    second = asyncio.ensure_future(batch("second"))  # arrives after the gate closed
    await asyncio.sleep(0)
    assert not closing.done() and order == ["first in"]
    release.set()
    await closing  # the batch inside has finished; the later one waits outside
    assert order == ["first in", "first out"] and not second.done()
    order.append("rebuilt")
    gate.open()
    await second
    assert order == ["first in", "first out", "rebuilt", "second in", "second out"]


async def test_draining_partition_batchers_leaves_nothing_pending_or_in_flight():
    seen: list[int] = []
    batchers: PartitionBatchers

    async def process(events):
        seen.extend(e.n for e in events)
        if events[0].n == 0:  # the agent hands partition 0, already flushed in this pass, another record
            await batchers[0].add(Ev(10), 1, now=0.0)

    batchers = PartitionBatchers(range(2), lambda: Batcher(process, max_records=5, max_bytes=100, within_s=1.0))
    await batchers[1].add(Ev(0), 1, now=0.0)
    assert not batchers.settled
    assert await batchers.drain()
    assert batchers.settled and sorted(seen) == [0, 10]


async def test_a_batch_woken_by_the_gate_opening_does_not_enter_once_it_closed_again():
    gate = RebuildGate()
    entered = []

    async def batch() -> None:
        async with gate.entered():
            entered.append(True)

    waiting = asyncio.ensure_future(batch())
    await asyncio.sleep(0)
    gate.open()  # wakes the batch ...
    await gate.close()  # ... but a new rebuild closes the gate before the batch runs (nothing is inside)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert entered == [] and not waiting.done()
    gate.open()
    await waiting
    assert entered == [True]


async def test_a_rebuild_is_overtaken_only_by_a_revocation_after_it_started():
    gate = RebuildGate()
    gate.revoked()
    since = gate.revocations  # a rebuild starts after the first revocation ...
    await gate.close()  # ... and closing the gate itself is no revocation
    assert not gate.overtaken(since)
    gate.revoked()  # a newer rebalance revokes meanwhile
    assert gate.overtaken(since)
    assert not gate.overtaken(gate.revocations)
