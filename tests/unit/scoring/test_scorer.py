"""The partition scorer: change events with causes and versions; restart from stored state is exact."""

from __future__ import annotations

from services.scoring import state
from services.scoring.scorer import PartitionScorer
from shared.events import FinanceStatusChanged, ObservationReceived
from shared.methodology import score_batch
from shared.methodology.inputs import Observation
from tests.support.inputs import ref
from tests.support.streams import M, REGISTER

AMBULANCE = sorted(c for c, t in REGISTER.items() if t.league == "ambulance")[:4]


def obs(code: str, metric: str, value: float, period: str = "2025-12", oid: str | None = None) -> ObservationReceived:
    return ObservationReceived(observation_id=oid or f"{code}-{metric}-{period}-{value}", trust=ref(code),
                               metric_id=metric, period=period, value=value)


def feed(scorer: PartitionScorer, events, table: dict):
    outcomes = []
    for e in events:
        out = scorer.apply(e)
        table.update(out.writes)
        outcomes.append(out)
    return outcomes


def stream():
    a, b, c, d = AMBULANCE
    return [
        obs(a, "OF0082", 4.0), obs(b, "OF0082", 5.0), obs(c, "OF0082", 6.0), obs(d, "OF0082", 7.0),
        obs(a, "OF0084", 7.1), obs(b, "OF0084", 6.9), obs(c, "OF0084", 6.5),
        FinanceStatusChanged(change_id="f1", trust=ref(b), in_deficit=True),
        obs(d, "OF0082", 3.0),
    ]


def test_events_carry_versions_causes_and_stable_ids():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    outcomes = feed(scorer, stream(), table)
    last = outcomes[-1]
    assert last.versions == {"ambulance": scorer.versions["ambulance"]}
    d = AMBULANCE[3]
    others = [e for e in last.events if e.trust_code != d]
    assert others, "D's improvement must move other trusts' scores"
    for event in others:
        assert event.cause.trust_code == d and not event.cause.own_data and event.cause.metric_id == "OF0082"
    assert len({e.event_id for e in last.events}) == len(last.events)
    versions = [o.versions["ambulance"] for o in outcomes if o.versions]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_old_and_new_sides_come_from_the_engine_and_its_changes():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    outcomes = feed(scorer, stream(), table)
    for out in outcomes:
        for e in out.events:
            standing = scorer.engine.standing(e.trust_code)
            assert standing is not None
    # The last event of each trust shows the engine's current standing as its new side.
    last: dict = {}
    for out in outcomes:
        for e in out.events:
            last[(e.trust_code, e.type)] = e
    for (code, kind), e in last.items():
        now = scorer.engine.results().trust(code)
        if kind == "rank.changed":
            assert e.new == {"rank": now.rank, "unadjusted_rank": now.unadjusted_rank}
        if kind == "segment.changed":
            assert e.new["segment"] == now.segment


def test_a_duplicate_input_produces_no_events():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    events = stream()
    feed(scorer, events, table)
    again = feed(scorer, events[-1:], table)[-1]
    assert again.events == [] and again.versions == {}


def test_restart_from_stored_state_equals_batch_and_keeps_versions():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    events = stream()
    feed(scorer, events, table)
    stored = state.group_by_partition_key(table.items())["ambulance"]
    restarted = PartitionScorer(M, "ambulance", stored, scorer.versions)
    assert restarted.versions == scorer.versions and restarted.seen == scorer.seen
    inputs = [Observation(e.trust.code, e.metric_id, e.period, e.value, e.observation_id)
              for e in events if isinstance(e, ObservationReceived)]
    from shared.methodology import FinanceStatus
    inputs.append(FinanceStatus(AMBULANCE[1], True, False, "f1"))
    trusts = {c: REGISTER[c] for c in AMBULANCE}
    assert restarted.engine.results() == score_batch(M, trusts, inputs)
    assert restarted.engine.results() == scorer.engine.results()


def test_snapshot_lists_the_league_in_rank_order_with_ranges():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    feed(scorer, stream(), table)
    snap = scorer.snapshot("ambulance")
    assert snap["version"] == scorer.versions["ambulance"]
    ranks = [e["rank"] for e in snap["entries"] if e["rank"] is not None]
    assert ranks == sorted(ranks) and len(ranks) == 4
    assert all(e["average_range"] is not None for e in snap["entries"])
    assert {e["region"] for e in snap["entries"]} <= {t.region for t in REGISTER.values()}


def test_a_stale_duplicate_after_a_revision_stays_ignored_across_a_restart():
    a = AMBULANCE[0]
    first = obs(a, "OF0082", 4.0, oid="first")
    revision = obs(a, "OF0082", 6.0, oid="revision")
    scorer, table = PartitionScorer(M, "ambulance"), {}
    feed(scorer, [obs(AMBULANCE[1], "OF0082", 5.0), first, revision], table)
    restarted = PartitionScorer(M, "ambulance", state.group_by_partition_key(table.items())["ambulance"])
    for s in (scorer, restarted):
        assert s.apply(first).events == []
    assert restarted.engine.results() == scorer.engine.results()
    assert scorer.engine.results().trust(a).metric_scores["OF0082"] == 4  # 6.0 is worse than 5.0: lower is better


def test_a_segment_event_always_means_the_published_segment_moved():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    events = [e for out in feed(scorer, stream(), table) for e in out.events]
    segment_events = [e for e in events if e.type == "segment.changed"]
    assert segment_events
    assert all(e.old["segment"] != e.new["segment"] for e in segment_events)
    capped = [e for e in events if e.type == "assessment.changed" and e.old.get("capped") != e.new.get("capped")]
    assert capped, "B's deficit caps its raw segment: an assessment change reports it"


def test_a_revision_that_keeps_its_place_still_refreshes_the_trusts_explanation():
    scorer, table = PartitionScorer(M, "ambulance"), {}
    feed(scorer, stream(), table)
    a = AMBULANCE[0]
    revision = obs(a, "OF0084", 7.05, oid="revised")  # still the worst of three: no score moves
    out = scorer.apply(revision)
    assert out.events == []
    assert out.dirty == {"ambulance": {(a, "OF0084")}}
    line = next(x for x in scorer.explanations({a})[a]["metrics"] if x["metric_id"] == "OF0084")
    assert line["value"] == "7.05"


def test_explanations_written_as_they_change_stay_equal_to_fresh_ones():
    # What a reader of Redis holds: the explanations of every flush applied in turn. Peers' moves shift
    # a trust's rank range and metric positions without an event of its own; those must be written too.
    import random

    rng = random.Random(11)
    ambulance = sorted(c for c, t in REGISTER.items() if t.league == "ambulance")
    metrics = [mid for mid, d in M.metrics.items()
               if d.scoring and all(d.applies("ambulance", c) for c in ambulance)][:6]
    scorer, table, written = PartitionScorer(M, "ambulance"), {}, {}
    values = {(c, mid): rng.uniform(1, 90) for c in ambulance for mid in metrics}
    feed(scorer, [obs(c, mid, round(v, 2), oid=f"base-{c}-{mid}") for (c, mid), v in values.items()], table)
    written.update(scorer.changed_explanations("ambulance"))
    for step in range(300):
        key = rng.choice(sorted(values))
        values[key] = min(max(values[key] + rng.gauss(0, 8), 0), 100)
        scorer.apply(obs(*key, round(values[key], 2), period="2026-01", oid=f"step-{step}"))
        if step % 7 == 6:
            written.update(scorer.changed_explanations("ambulance"))
            assert scorer.changed_explanations("ambulance") == {}  # nothing new, nothing written
            fresh = scorer.explanations(ambulance)
            strip = lambda x: {k: v for k, v in x.items() if k != "version"}  # noqa: E731
            assert {c: strip(x) for c, x in written.items()} == {c: strip(x) for c, x in fresh.items()}


def test_retractions_withdraw_as_if_never_sent_and_survive_a_restart():
    from shared.events import InputRetracted
    from shared.methodology import FinanceStatus

    a, b = AMBULANCE[0], AMBULANCE[1]
    wrong = obs(a, "OF0082", 1.0, period="2026-01", oid="typo")  # a new period: it becomes the scored value
    events = [*stream(), wrong,
              InputRetracted(change_id="r1", trust=ref(a), target="observation", input_id="typo"),
              InputRetracted(change_id="r2", trust=ref(b), target="finance", input_id="f1"),
              InputRetracted(change_id="r3", trust=ref(a), target="observation", input_id="never-sent")]
    scorer, table = PartitionScorer(M, "ambulance"), {}
    outcomes = feed(scorer, events, table)
    causes = {e.cause.kind for e in outcomes[-3].events + outcomes[-2].events}
    assert causes == {"retraction"}, "the tables follow the retraction, and name it as the cause"
    # As if the typo and the finance flag had never arrived:
    inputs = [Observation(e.trust.code, e.metric_id, e.period, e.value, e.observation_id)
              for e in stream() if isinstance(e, ObservationReceived)]
    trusts = {c: REGISTER[c] for c in AMBULANCE}
    assert scorer.engine.results() == score_batch(M, trusts, inputs)
    restarted = PartitionScorer(M, "ambulance", state.group_by_partition_key(table.items())["ambulance"],
                                scorer.versions)
    assert restarted.engine.results() == scorer.engine.results()
    for again in (wrong, events[-3], events[-1]):  # spent ids stay spent after the restart
        assert restarted.apply(again).events == []
    assert restarted.engine.results() == scorer.engine.results()
    del FinanceStatus
