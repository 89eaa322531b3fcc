"""Retractions (METHODOLOGY §8): an input withdrawn in error leaves the tables as if it had never arrived,
and every change it makes names the retraction as its cause."""

from __future__ import annotations

import pytest

from shared.methodology import (
    FinanceStatus, IncrementalEngine, IntensiveSupport, InvalidInput, Observation, Retraction, TrustInfo,
    get_methodology, score_batch,
)

M = get_methodology()
TRUSTS = {c: TrustInfo(c, f"Trust {c}", "Acute trust") for c in ("A", "B", "C")}
BASE = [
    Observation("A", "OF0013", "2025-11", 70, "a-nov"),
    Observation("B", "OF0013", "2025-11", 80, "b-nov"),
    Observation("C", "OF0013", "2025-11", 90, "c-nov"),
    Observation("A", "OF0013", "2025-12", 95, "a-dec"),  # the latest period: A's scored value
]


def _state(results):
    return {(r.trust_code, r.league): (r.average, r.segment, r.rank, dict(r.metric_scores), r.in_deficit,
                                       r.intensive_support) for r in results}


def test_retracting_the_latest_reading_falls_back_to_the_previous_period():
    engine = IncrementalEngine(M, TRUSTS, BASE)
    changes = engine.apply(Retraction("ret-1", "A", "observation", input_id="a-dec"))
    assert changes and {c.cause for c in changes} == {changes[0].cause}
    assert (changes[0].cause.kind, changes[0].cause.input_id) == ("retraction", "ret-1")
    assert _state(engine.results()) == _state(score_batch(M, TRUSTS, BASE[:3]))


def test_retracting_by_metric_and_period_removes_the_trust_from_the_metric():
    engine = IncrementalEngine(M, TRUSTS, BASE)
    engine.apply(Retraction("ret-1", "B", "observation", metric_id="OF0013", period="2025-11"))
    without_b = [o for o in BASE if o.trust_code != "B"]
    assert _state(engine.results()) == _state(score_batch(M, TRUSTS, without_b))
    (b,) = [r for r in engine.results() if r.trust_code == "B"]
    assert b.scored_metrics == 0 and b.rank is None


def test_retracting_a_flag_change_restores_the_one_before():
    inputs = [*BASE, FinanceStatus("C", False, change_id="f1"), FinanceStatus("C", True, change_id="f2"),
              IntensiveSupport("B", True, "i1")]
    engine = IncrementalEngine(M, TRUSTS, inputs)
    engine.apply(Retraction("ret-f", "C", "finance", input_id="f2"))
    engine.apply(Retraction("ret-i", "B", "intensive_support", input_id="i1"))
    assert _state(engine.results()) == _state(score_batch(M, TRUSTS, [*BASE, FinanceStatus("C", False, change_id="f1")]))


def test_a_retraction_is_idempotent_and_of_nothing_changes_nothing():
    engine = IncrementalEngine(M, TRUSTS, BASE)
    assert engine.apply(Retraction("ret-1", "A", "observation", input_id="a-dec"))
    assert engine.apply(Retraction("ret-1", "A", "observation", input_id="a-dec")) == []  # re-sent
    assert engine.apply(Retraction("ret-2", "A", "observation", input_id="a-dec")) == []  # already gone
    assert engine.apply(Retraction("ret-3", "A", "observation", input_id="nope")) == []
    assert engine.apply(Observation("A", "OF0013", "2025-12", 95, "a-dec")) == []  # a retracted id stays spent


def test_the_batch_path_folds_retractions_too():
    inputs = [*BASE, Retraction("ret-1", "A", "observation", input_id="a-dec")]
    assert _state(score_batch(M, TRUSTS, inputs)) == _state(score_batch(M, TRUSTS, BASE[:3]))


@pytest.mark.parametrize(("retraction", "field"), [
    (Retraction("r", "A", "nonsense", input_id="x"), "target"),
    (Retraction("r", "A", "finance"), "input_id"),
    (Retraction("r", "A", "observation"), "input_id"),
    (Retraction("r", "A", "observation", input_id="x", metric_id="OF0013", period="2025-12"), "input_id"),
    (Retraction("r", "A", "observation", metric_id="OF0013", period="2025-13"), "period"),
    (Retraction("", "A", "observation", input_id="x"), "change_id"),
])
def test_malformed_retractions_are_refused_naming_the_field(retraction, field):
    with pytest.raises(InvalidInput) as refused:
        IncrementalEngine(M, TRUSTS, BASE).apply(retraction)
    assert refused.value.field == field
