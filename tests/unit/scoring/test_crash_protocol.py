"""The scorer's crash protocol, exhaustively, on the in-memory broker: a crash before every single write
of every batch (every prefix of the writes), then a restart from what was durable, ends in exactly the
state and the change events of a run that never crashed; re-sent events are byte-identical. And no
change event leaves before the commit record of its batch: writes to different topics are durable
independently in Kafka, so an event sent earlier could outlive a batch that is then recomputed."""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest

from services.scoring.recorder import Crash, MemoryBroker, ProcessRecorder
from services.scoring.worker import Record, ScoringWorker
from shared.events import FinanceStatusChanged, ObservationReceived, ObservationsReceived
from shared.methodology import score_batch
from shared.methodology.inputs import FinanceStatus, Observation
from tests.support.inputs import ref
from tests.support.streams import M, REGISTER

CHANGELOG, CHANGES = "state-changelog", "changes"
OBS, STATUS = "observations", "trust-status"
PARTITIONS = 6
BATCH = 4  # records per process() call


def stream(seed: int = 5) -> list[Record]:
    """Two leagues (two partitions): single and batched observations, duplicates, revisions, a finance
    change, an undecodable record and an observation the methodology rejects."""
    rng = random.Random(seed)
    leagues = {"ambulance": sorted(c for c, t in REGISTER.items() if t.league == "ambulance")[:5],
               "mental-health-community": sorted(c for c, t in REGISTER.items()
                                                 if t.league == "mental-health-community")[:5]}
    metrics = {lg: [mid for mid, d in M.metrics.items() if d.scoring and all(d.applies(lg, c) for c in codes)][:3]
               for lg, codes in leagues.items()}
    offsets = {}
    out: list[Record] = []
    n = 0

    def add(topic: str, pk: str, value: bytes) -> None:
        p = {"ambulance": 4, "mental-health-community": 3}[pk]
        off = offsets.get((topic, p), 0)
        offsets[(topic, p)] = off + 1
        out.append(Record(topic, p, off, pk.encode(), value))

    def observation(lg: str, oid: str | None = None, period: str = "2025-12") -> ObservationReceived:
        nonlocal n
        n += 1
        return ObservationReceived(observation_id=oid or f"o{n}", trust=ref(rng.choice(leagues[lg])),
                                   metric_id=rng.choice(metrics[lg]), period=period,
                                   value=round(rng.uniform(50, 99), 1), correlation_id=f"c{n}")

    sent: list[ObservationReceived] = []
    for step in range(14):
        lg = rng.choice(sorted(leagues))
        roll = rng.random()
        if roll < 0.25:
            batch = [observation(lg) for _ in range(rng.randint(2, 4))]
            sent.extend(batch)
            add(OBS, lg, ObservationsReceived(observations=batch).to_bytes())
        elif roll < 0.35 and sent:
            dup = rng.choice(sent)
            add(OBS, _league(dup), dup.to_bytes())  # a duplicate
        else:
            o = observation(lg)
            sent.append(o)
            add(OBS, lg, o.to_bytes())
    add(STATUS, "ambulance", FinanceStatusChanged(change_id="f1", trust=ref(leagues["ambulance"][1]),
                                                  in_deficit=True).to_bytes())
    add(OBS, "ambulance", b"{not json")  # poison: dead-lettered, never stops the worker
    bad = observation("ambulance").model_copy(update={"metric_id": "NOPE"})
    add(OBS, "ambulance", bad.to_bytes())  # rejected by the methodology
    for o in sent[:3]:  # revisions of earlier values, and a late period
        add(OBS, _league(o), o.model_copy(update={"observation_id": o.observation_id + "-r",
                                                  "value": o.value - 7}).to_bytes())
    add(OBS, "ambulance", observation("ambulance", period="2025-09").to_bytes())
    return out


def _league(o: ObservationReceived) -> str:
    return REGISTER[o.trust.code].league


def new_worker(broker: MemoryBroker) -> ScoringWorker:
    table = broker.table(CHANGELOG)
    return ScoringWorker(M, ProcessRecorder(broker, CHANGELOG, table), broker, CHANGES, PARTITIONS,
                         batch_events_max=6)


async def run(broker: MemoryBroker, records: list[Record]) -> ScoringWorker:
    """Start (or restart) a worker on the broker's durable state and feed it the stream from its positions."""
    worker = new_worker(broker)
    for tp, offset in worker.recover(range(PARTITIONS), (OBS, STATUS)).items():
        if offset is None:
            worker.start_at(tp, 0)
    await worker.redo_last_batches()
    for i in range(0, len(records), BATCH):
        done = await worker.process(records[i:i + BATCH])
        assert not done.gaps
    return worker


def outcome(worker: ScoringWorker, broker: MemoryBroker) -> tuple:
    results = {pk: s.engine.results() for pk, s in worker.scorers.items()}
    versions = {pk: dict(s.versions) for pk, s in worker.scorers.items()}
    return results, versions


def events_by_id(broker: MemoryBroker) -> dict[str, set[bytes]]:
    out: dict[str, set[bytes]] = {}
    for _, value in broker.topic(CHANGES):
        out.setdefault(orjson.loads(value)["event_id"], set()).add(value)
    return out


RECORDS = stream()


@pytest.fixture(scope="module")
def reference():
    broker = MemoryBroker()
    worker = asyncio.run(run(broker, RECORDS))
    return broker, outcome(worker, broker), events_by_id(broker)


def test_the_crash_free_run_equals_the_batch_methodology(reference):
    broker, (results, _), events = reference
    assert events and all(len(copies) == 1 for copies in events.values())
    assert len(broker.topic(f"{OBS}.dlq")) == 2
    inputs: dict[str, list] = {}
    seen: set[str] = set()
    from shared.events import decode_input, single_inputs
    for r in RECORDS:
        try:
            event = decode_input(r.value)
        except ValueError:
            continue
        for item in single_inputs(event):
            iid = getattr(item, "observation_id", None) or item.change_id
            if iid in seen or getattr(item, "metric_id", "") == "NOPE":
                continue
            seen.add(iid)
            inputs.setdefault(r.key.decode(), []).append(
                Observation(item.trust.code, item.metric_id, item.period, item.value, iid)
                if isinstance(item, ObservationReceived)
                else FinanceStatus(item.trust.code, item.in_deficit, item.receives_deficit_support, iid))
    for pk, items in inputs.items():
        trusts = {t.code: REGISTER[t.code] for t in {r for r in _refs(pk)}}
        assert results[pk] == score_batch(M, trusts, items)


def _refs(pk: str) -> set:
    from shared.events import decode_input, single_inputs
    refs = set()
    for r in RECORDS:
        if r.key.decode() != pk:
            continue
        try:
            refs.update(i.trust for i in single_inputs(decode_input(r.value)))
        except ValueError:
            continue
    return refs


def crash_points(reference) -> range:
    broker, _, _ = reference
    return range(len(broker.log) + 1)


def test_events_leave_only_after_their_batchs_commit_record(reference):
    broker, _, _ = reference
    committed: set[bytes] = set()
    for topic, _, key, value in broker.log:
        if topic == CHANGELOG and b"~commit" in key:
            committed.update(e.encode() for e in orjson.loads(value)["events"])
        elif topic == CHANGES:
            assert value in committed, "an event was sent before the commit record that holds it"


def test_a_crash_before_any_write_recovers_exactly(reference):
    ref_broker, ref_outcome, ref_events = reference
    checked = 0
    for crash_at in crash_points(reference):
        broker = MemoryBroker(crash_at=crash_at)
        with pytest.raises(Crash) if crash_at < len(ref_broker.log) else _nothing():
            asyncio.run(run(broker, RECORDS))
        broker.crash_at = None
        worker = asyncio.run(run(broker, RECORDS))
        assert outcome(worker, broker) == ref_outcome, f"state differs after a crash at write {crash_at}"
        events = events_by_id(broker)
        assert set(events) == set(ref_events), f"event ids differ after a crash at write {crash_at}"
        for event_id, copies in events.items():
            assert copies == ref_events[event_id], f"a re-sent event changed content: {event_id}"
        checked += 1
    assert checked == len(ref_broker.log) + 1


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def recovered_only(broker: MemoryBroker) -> ScoringWorker:
    """A worker that recovers from the changelog and applies nothing: what a crash at this moment restarts from."""
    worker = new_worker(broker)
    worker.recover(range(PARTITIONS), (OBS, STATUS))
    return worker


def test_a_restarted_worker_leaves_a_changelog_that_recovers_exactly(reference):
    """A crash may cut a batch's state writes short; the restarted worker must write them again before its
    next commit record, or a second crash would recover without them."""
    ref_broker, ref_outcome, _ = reference
    for crash_at in crash_points(reference):
        broker = MemoryBroker(crash_at=crash_at)
        with pytest.raises(Crash) if crash_at < len(ref_broker.log) else _nothing():
            asyncio.run(run(broker, RECORDS))
        broker.crash_at = None
        asyncio.run(run(broker, RECORDS))
        assert outcome(recovered_only(broker), broker) == ref_outcome, \
            f"the changelog lost state after a crash at write {crash_at} and a restart"


def test_two_crashes_recover_exactly(reference):
    """A crash at every write of the first run, a second one at several writes of the restarted run."""
    ref_broker, ref_outcome, ref_events = reference
    rng = random.Random(3)
    checked = 0
    for first in crash_points(reference)[:-1]:
        broker = MemoryBroker(crash_at=first)
        with pytest.raises(Crash):
            asyncio.run(run(broker, RECORDS))
        durable = len(broker.log)
        trial = MemoryBroker()
        trial.log = list(broker.log)
        asyncio.run(run(trial, RECORDS))  # how many writes the restarted run makes
        for second in sorted(rng.sample(range(durable, len(trial.log)), k=min(2, len(trial.log) - durable))):
            twice = MemoryBroker(crash_at=second)
            twice.log = list(broker.log)
            with pytest.raises(Crash):
                asyncio.run(run(twice, RECORDS))
            twice.crash_at = None
            worker = asyncio.run(run(twice, RECORDS))
            where = f"crashes at writes {first} and {second}"
            assert outcome(worker, twice) == ref_outcome, f"state differs after {where}"
            assert set(events_by_id(twice)) == set(ref_events), f"event ids differ after {where}"
            checked += 1
    assert checked > len(ref_broker.log)


def test_records_of_a_partition_the_worker_does_not_own_are_neither_applied_nor_recorded():
    broker = MemoryBroker()
    worker = new_worker(broker)
    owned = RECORDS[0].partition
    for tp, offset in worker.recover({owned}, (OBS, STATUS)).items():
        worker.start_at(tp, 0)
    others = [r for r in RECORDS if r.partition != owned][:5]  # fetched before that partition was revoked
    done = asyncio.run(worker.process(others))
    assert done.inputs == 0 and done.unowned == len(others)
    assert broker.log == [] and not worker.scorers
