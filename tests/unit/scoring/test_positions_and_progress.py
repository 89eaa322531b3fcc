"""Positions, gaps and stalls: bounded, counted and visible."""

from __future__ import annotations

import asyncio

import pytest

from services.scoring import metrics
from services.scoring.batcher import Batcher
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
    def __init__(self) -> None:
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
    assert seen == [3] and all(e.acked for e in events[:3])
    await b.add(events[3], 200, now=1.0)  # over the byte bound on its own
    assert seen == [3, 1]
    await b.add(events[4], 1, now=2.0)
    await b.tick(now=2.4)
    assert seen == [3, 1]
    await b.tick(now=2.6)
    assert seen == [3, 1, 1] and events[4].acked


async def test_a_batch_that_cannot_be_made_durable_is_not_acknowledged_and_stops_the_worker():
    failures = []

    async def process(events):
        raise RuntimeError("broker refused the commit record")

    b = Batcher(process, 1, 100, 1.0, on_failure=failures.append)
    e = Ev()
    with pytest.raises(RuntimeError):
        await b.add(e, 1, now=0.0)
    assert not e.acked and len(failures) == 1
