"""The worked example of METHODOLOGY §8 as a table test, batch and incremental."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from shared.methodology import Cause, IncrementalEngine, Observation, score_batch

D = Decimal
BEFORE = {  # trust: (M1, M2, M3, avg, raw seg, seg, rank, unadjusted rank)
    "A": ("1", "4", "1", "2.00", 1, 1, 1, 2),
    "B": ("5/2", "1", "2", "1.83", 1, 3, 2, 1),
    "C": ("5/2", "5/2", "3", "2.67", 3, 3, 3, 3),
    "D": ("4", None, "4", "4.00", 4, 4, 4, 4),
}
AFTER = {  # trust: (M1, avg, seg, rank)
    "A": ("1", "2.00", 1, 1),
    "B": ("7/2", "2.17", 3, 2),
    "C": ("7/2", "3.00", 4, 3),
    "D": ("2", "3.00", 4, 3),
}
D_M1 = Observation("D", "M1", "2025-26 Q3", 65, "D-M1-rev")


def _check_before(results):
    league = results.leagues["acute"]
    assert [e.trust_code for e in league.entries] == ["A", "B", "C", "D"]
    for code, (m1, m2, m3, avg, raw, seg, rank, unadj) in BEFORE.items():
        r = league.get(code)
        expected = {"M1": m1, "M2": m2, "M3": m3}
        assert r.metric_scores == {k: Fraction(v) for k, v in expected.items() if v}
        assert (r.average, r.raw_segment, r.segment, r.rank, r.unadjusted_rank) == (
            D(avg), raw, seg, rank, unadj)
        assert r.capped == (code == "B")
        assert r.methodology_version == "worked-example"
    assert league.get("D").scored_metrics == 2 and league.get("D").applicable_metrics == 3


def _check_after(results):
    league = results.leagues["acute"]
    for code, (m1, avg, seg, rank) in AFTER.items():
        r = league.get(code)
        assert (r.metric_scores["M1"], r.average, r.segment, r.rank) == (
            Fraction(m1), D(avg), seg, rank)
    assert league.get("B").capped and league.get("B").raw_segment == 2


@pytest.mark.parametrize("path", ["batch", "incremental", "bulk"])
def test_first_table(worked, path):
    m, trusts, inputs = worked
    if path == "batch":
        results = score_batch(m, trusts, inputs)
    elif path == "bulk":
        results = IncrementalEngine(m, trusts, inputs).results()
    else:
        engine = IncrementalEngine(m, trusts)
        for item in inputs:
            engine.apply(item)
        results = engine.results()
    _check_before(results)


def test_second_table_batch(worked):
    m, trusts, inputs = worked
    _check_after(score_batch(m, trusts, inputs + [D_M1]))


def test_cascade_names_d_as_the_cause(worked):
    m, trusts, inputs = worked
    engine = IncrementalEngine(m, trusts, inputs)
    changes = engine.apply(D_M1)
    cause = Cause("observation", "D-M1-rev", "D")
    assert all(c.cause == cause for c in changes)
    got = {(c.trust_code, c.kind, c.metric_id, c.old, c.new) for c in changes}
    assert got == {
        ("D", "metric_score", "M1", Fraction(4), Fraction(2)),
        ("B", "metric_score", "M1", Fraction(5, 2), Fraction(7, 2)),
        ("C", "metric_score", "M1", Fraction(5, 2), Fraction(7, 2)),
        ("D", "average", None, D("4.00"), D("3.00")),
        ("B", "average", None, D("1.83"), D("2.17")),
        ("C", "average", None, D("2.67"), D("3.00")),
        ("B", "raw_segment", None, 1, 2),
        ("C", "raw_segment", None, 3, 4),
        ("C", "segment", None, 3, 4),
        ("D", "rank", None, 4, 3),
        ("A", "unadjusted_rank", None, 2, 1),
        ("B", "unadjusted_rank", None, 1, 2),
        ("D", "unadjusted_rank", None, 4, 3),
    }
    _check_after(engine.results())
    assert engine.results() == score_batch(m, trusts, inputs + [D_M1])


def test_duplicate_and_resent_value_change_nothing(worked):
    m, trusts, inputs = worked
    engine = IncrementalEngine(m, trusts, inputs)
    assert engine.apply(inputs[0]) == []
    same = Observation("A", "M1", "2025-26 Q3", Decimal("70.0"), "new-id")
    assert engine.apply(same) == []


def test_late_older_period_is_history_only(worked):
    m, trusts, inputs = worked
    engine = IncrementalEngine(m, trusts, inputs)
    assert engine.apply(Observation("D", "M1", "2025-26 Q2", 99, "late")) == []
    assert engine.results() == score_batch(m, trusts, inputs)
    newer = engine.apply(Observation("D", "M1", "2025-26 Q4", 65, "newer"))
    assert {c.kind for c in newer} >= {"metric_score", "average"}
    _check_after(engine.results())


def test_explanation_shows_the_derivation(worked):
    m, trusts, inputs = worked
    engine = IncrementalEngine(m, trusts, inputs)
    x = engine.explain("B")
    lines = {line.metric_id: line for line in x.metrics}
    assert (lines["M1"].peers, lines["M1"].position, lines["M1"].score) == (
        4, Fraction(5, 2), Fraction(5, 2))
    assert lines["M3"].score == 2 and x.average_exact == Fraction(11, 6)
    assert "raised to 3" in x.cap and x.result.rank == 2
    assert "not reported" in {l.metric_id: l for l in engine.explain("D").metrics}["M2"].status
    d = x.to_dict()
    assert d["average_exact"] == "11/6" and d["result"]["average"] == "1.83"
    import json
    json.dumps(d)
    assert "rank: 2 = 1 + 1 trusts" in x.to_text()
