"""Engine behaviour around the scoring rules: trusts, caching, ranges, explanations."""

from __future__ import annotations

import json

import pytest

from shared.methodology import (
    IncrementalEngine, Observation, TrustInfo, UnknownTrust, get_methodology, score_batch,
)

M = get_methodology()
TRUSTS = {c: TrustInfo(c, f"Trust {c}", "Ambulance trust") for c in ("RYF", "RRU", "RX6")}
INPUTS = [Observation(c, mid, "2025-12", v, f"{c}-{mid}") for c, mid, v in (
    ("RYF", "PRV-AMB-C1", 9), ("RRU", "PRV-AMB-C1", 7), ("RX6", "PRV-AMB-C1", 8),
    ("RYF", "OF0082", 6), ("RRU", "OF0082", 5), ("RX6", "OF0082", 7),
    ("RYF", "OF0084", 7), ("RRU", "OF0084", 6), ("RX6", "OF0084", 6))]


def test_add_trust_lists_it_unranked():
    engine = IncrementalEngine(M, TRUSTS, INPUTS)
    new = TrustInfo("RYA", "West Midlands", "Ambulance trust")
    changes = engine.add_trust(new)
    assert [(c.kind, c.trust_code, c.cause.kind) for c in changes] == [
        ("trust_added", "RYA", "trust")]
    assert engine.add_trust(new) == []
    entry = engine.results().leagues["ambulance"].entries[-1]
    assert (entry.trust_code, entry.rank, entry.scored_metrics, entry.applicable_metrics) == (
        "RYA", None, 0, 8)
    changes = engine.apply(Observation("RYA", "PRV-AMB-C1", "2025-12", 6, "rya"))
    # RYF stays worst (4.00); the others all shift down one place.
    assert {c.trust_code for c in changes if c.kind == "metric_score"} == {"RYA", "RRU", "RX6"}
    assert engine.results() == score_batch(M, TRUSTS | {"RYA": new}, INPUTS + [
        Observation("RYA", "PRV-AMB-C1", "2025-12", 6, "rya")])


def test_results_are_cached_and_ranges_deterministic():
    engine = IncrementalEngine(M, TRUSTS, INPUTS)
    first = engine.results()
    assert engine.results().leagues["ambulance"] is first.leagues["ambulance"]
    again = IncrementalEngine(M, TRUSTS, INPUTS).results()
    for r in first:
        lo, hi = r.average_range
        assert lo <= hi and 1 <= r.rank_range[0] <= r.rank_range[1] <= 3
        assert again.trust(r.trust_code).average_range == r.average_range


def test_contextual_and_inapplicable_metrics_are_history_only():
    engine = IncrementalEngine(M, TRUSTS, INPUTS)
    before = engine.results()
    assert engine.apply(Observation("RYF", "OF0063", "2025-12", 10, "ctx")) == []
    assert engine.results() == before
    lines = {x.metric_id: x for x in engine.explain("RYF").metrics}
    assert lines["OF0063"].status.startswith("not applicable")


def test_explain_and_to_dict_are_json_safe():
    engine = IncrementalEngine(M, TRUSTS, INPUTS)
    json.dumps(engine.results().to_dict())
    x = engine.explain("RRU")
    assert x.result.rank == 1 and x.methodology_version == "nof-2025-26"
    json.dumps(x.to_dict())
    assert "bootstrap" not in x.range_method or "seeded" in x.range_method
    with pytest.raises(UnknownTrust):
        engine.explain("NOPE")
    change = engine.apply(Observation("RRU", "OF0082", "2026-01", 9, "late-jan"))[0]
    json.dumps(change.to_dict())


def test_a_league_built_in_steps_gives_the_results_built_at_once():
    stepped, whole = IncrementalEngine(M, TRUSTS, INPUTS), IncrementalEngine(M, TRUSTS, INPUTS)
    assert list(stepped.build_league("ambulance", step=1)) == [1, 2, 3]  # a yield per trust rebuilt
    built = stepped.results().leagues["ambulance"]
    assert built == whole.results().leagues["ambulance"]
    assert list(stepped.build_league("ambulance", step=1)) == []  # built: cached until the next change
    assert stepped.results().leagues["ambulance"] is built
    move = Observation("RYF", "OF0082", "2025-12", 4, "ryf-better")
    stepped.apply(move)
    whole.apply(move)
    steps = list(stepped.build_league("ambulance", step=1))
    assert 1 <= len(steps) < 3  # only the trusts whose own state moved are rebuilt
    assert stepped.results() == whole.results() == score_batch(M, TRUSTS, INPUTS + [move])
