"""Rounding, mappings, bands, segments, cap, segment 5 and ranks (METHODOLOGY §2-§6)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction as F

import pytest

from shared.methodology import (
    FinanceStatus, IncrementalEngine, IntensiveSupport, Observation, TrustInfo,
    get_methodology, score_batch,
)
from shared.methodology.ranking import competition_ranks
from shared.methodology.rounding import exact_mean, half_up_hundredths, mean_hundredths, two_dp, two_dp_text
from shared.methodology.scoring import position_score, score_group
from shared.methodology.segments import (
    distance_to_next, league_cuts, quartile_cuts, raw_segment, segment_state,
)

M = get_methodology()
FIXED = league_cuts(M, [])


@pytest.mark.parametrize("value, hundredths", [
    (F(2675, 1000), 268), (F(1, 3), 33), (F(2, 3), 67), (F(11, 6), 183), (F(13, 6), 217),
    (F(1, 200), 1), (F(-1, 200), -1), (F(4), 400),
])
def test_half_up_on_exact_values(value, hundredths):
    assert half_up_hundredths(value) == hundredths
    assert two_dp(value) == Decimal(hundredths).scaleb(-2)


@pytest.mark.parametrize("seed", range(8))
def test_means_are_exact_and_round_half_up(seed):
    rnd = random.Random(seed)
    for _ in range(200):
        values = [F(rnd.randint(-400, 400), rnd.choice((1, 2, 3, 4, 6, 7, 8, 40, 1000, 129)))
                  for _ in range(rnd.randint(1, 9))]
        assert exact_mean(values) == sum(values) / len(values)
        assert mean_hundredths(values) == half_up_hundredths(sum(values) / len(values))
    assert mean_hundredths([F(2675, 1000)]) == 268 and mean_hundredths([F(1, 1), F(-1, 100)]) == 50


@pytest.mark.parametrize("seed", range(4))
def test_half_up_rounding_agrees_with_decimal_round_half_up(seed):
    from decimal import ROUND_HALF_UP, localcontext

    rnd = random.Random(seed)
    with localcontext() as ctx:
        ctx.prec = 60
        for _ in range(500):
            value = F(rnd.randint(-100_000, 100_000), rnd.choice((1, 2, 3, 4, 8, 40, 200, 400, 1000, 7, 129)))
            exact = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert half_up_hundredths(value) == int(exact.scaleb(2))
            if exact:
                assert two_dp_text(value) == str(two_dp(value)) == str(exact)
            else:  # Decimal keeps the sign of a negative that rounds to zero ("-0.00"); the JSON form does not
                assert two_dp_text(value) == "0.00"


@pytest.mark.parametrize("avg, segment", [(100, 1), (210, 1), (211, 2), (235, 2), (236, 3),
                                          (270, 3), (271, 4), (400, 4)])
def test_fixed_thresholds(avg, segment):
    assert raw_segment(avg, FIXED) == segment


def test_cap_and_segment_5():
    assert segment_state(M, 150, FIXED, True, False) == (1, 3, True)
    assert segment_state(M, 250, FIXED, True, False) == (3, 3, False)
    assert segment_state(M, 300, FIXED, True, False) == (4, 4, False)  # stays 4
    assert segment_state(M, 150, FIXED, False, True) == (1, 5, False)
    assert segment_state(M, None, FIXED, False, True) == (None, 5, False)
    assert segment_state(M.replace(segment5=False), 150, FIXED, False, True).segment == 1


def test_distance_to_next_segment():
    state = segment_state(M, 250, FIXED, False, False)
    assert distance_to_next(M, 250, state, FIXED, False) == Decimal("0.15")
    capped = segment_state(M, 150, FIXED, True, False)
    assert distance_to_next(M, 150, capped, FIXED, True) is None
    four = segment_state(M, 300, FIXED, True, False)
    assert distance_to_next(M, 300, four, FIXED, True) == Decimal("0.30")


def test_ranks_share_and_skip():
    keys = {"a": (1, 150), "b": (1, 200), "c": (1, 200), "d": (3, 120)}
    assert competition_ranks(keys) == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_quartile_cuts_inclusive():
    assert quartile_cuts([100, 200, 300, 400, 500]) == (200, 300, 400)
    assert quartile_cuts([100, 200, 300, 400]) == (F(700, 4), F(1000, 4), F(1300, 4))
    assert quartile_cuts([]) is None


def test_mappings():
    assert position_score("rank-linear", 1, 2, 4) == (6 + 3 * 3, 6)  # positions 2,3 -> 2.5
    assert F(*position_score("percent-rank", 1, 2, 4)) == 2
    metric = M.metric("OF0082")  # lower is better
    values = {"a": F(1), "b": F(2), "c": F(4)}
    assert score_group("min-max", metric, 2, values) == {"a": 1, "b": 2, "c": 4}
    assert score_group("rank-linear", metric, 2, values) == {"a": 1, "b": F(5, 2), "c": 4}
    assert score_group("rank-linear", metric, 4, values) == {}  # fewer than min_peers
    banded = M.metric("OF0106")
    got = score_group("rank-linear", banded, 2, {"x": F(0), "y": F(-1), "z": F(-3), "w": F(-4)})
    assert got == {"x": 1, "y": 2, "z": 3, "w": 4}


def _league(*codes, trust_type="Acute trust"):
    return {c: TrustInfo(c, c, trust_type) for c in codes}


def test_excluded_metric_missing_metric_and_min_scored():
    trusts = _league("RBV", "R0A", "R0B")
    inputs = [Observation(c, "OF0023", "2025-12", v, f"{c}-23")
              for c, v in (("RBV", 90), ("R0A", 60), ("R0B", 70))]
    results = score_batch(M, trusts, inputs)
    christie = results.trust("RBV")
    assert christie.scored_metrics == 0 and christie.rank is None and christie.segment is None
    assert christie.applicable_metrics == results.trust("R0A").applicable_metrics - 1
    assert results.trust("R0B").metric_scores == {"OF0023": 1}
    strict = M.replace(min_scored_metrics=2)
    assert score_batch(strict, trusts, inputs).trust("R0B").rank is None
    assert [e.trust_code for e in results.leagues["acute"].entries] == ["R0B", "R0A", "RBV"]


def test_several_leagues_and_finance_warning():
    trusts = _league("A1", "A2") | _league("M1", "M2", trust_type="Mental health and community trust")
    inputs = [Observation(c, "OF0082", "2025-12", v, c) for c, v in
              (("A1", 4), ("A2", 5), ("M1", 6), ("M2", 3))]
    engine = IncrementalEngine(M, trusts, inputs)
    results = engine.results()
    assert set(results.leagues) == {"acute", "mental-health-community"}
    assert results.trust("M2").rank == 1 and results.trust("A1").rank == 1
    assert results.trust("A1").warnings and results.trust("A1").in_deficit is None
    changes = engine.apply(FinanceStatus("A1", False, change_id="f1"))
    assert [(c.kind, c.old, c.new) for c in changes] == [("finance", (None, False), (False, False))]
    assert not engine.results().trust("A1").warnings
    changes = engine.apply(IntensiveSupport("A2", True, "i1"))
    assert ("segment", 4, 5) in [(c.kind, c.old, c.new) for c in changes]
    assert engine.results() == score_batch(M, trusts, inputs + [
        FinanceStatus("A1", False, change_id="f1"), IntensiveSupport("A2", True, "i1")])
