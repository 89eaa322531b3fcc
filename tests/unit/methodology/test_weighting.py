"""Averaging per metric (published, §3) or per domain (an alternative the sensitivity view uses)."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from shared.methodology import IncrementalEngine, InvalidInput, score_batch
from shared.methodology.averaging import average_hundredths, exact_average
from shared.methodology.batch import fold, results_from_store
from shared.methodology.explain import explain_trust
from shared.methodology.versions import PER_DOMAIN, PER_METRIC
from tests.unit.methodology.conftest import worked_methodology
from tests.unit.methodology.test_worked_example import BEFORE

# worked_methodology(): M1 and M3 are in "access", M2 in "safety".
CASES = [
    # scores, per-metric average (hundredths), per-domain average (hundredths)
    ({"M1": F(1), "M2": F(4), "M3": F(1)}, 200, 250),    # (1+4+1)/3 = 2.00; ((1+1)/2 + 4)/2 = 2.50
    ({"M1": F(2), "M2": F(2), "M3": F(2)}, 200, 200),    # equal scores: the weighting does not matter
    ({"M1": F(1), "M3": F(4)}, 250, 250),                # one domain: the same mean
    ({"M2": F(7, 3)}, 233, 233),                         # one metric
    ({"M1": F(1), "M2": F(2), "M3": F(4)}, 233, 225),    # 7/3 = 2.33; (2.5 + 2)/2 = 2.25
    ({}, None, None),                                    # nothing scored: no average
]


@pytest.mark.parametrize("scores, per_metric, per_domain", CASES)
def test_average_per_metric_and_per_domain(scores, per_metric, per_domain):
    assert average_hundredths(worked_methodology(), scores) == per_metric
    assert average_hundredths(worked_methodology(weighting=PER_DOMAIN), scores) == per_domain


def test_per_domain_is_exact_before_rounding():
    scores = {"M1": F(1), "M2": F(2), "M3": F(2)}
    assert exact_average(worked_methodology(weighting=PER_DOMAIN), scores) == F(7, 4)
    assert exact_average(worked_methodology(), scores) == F(5, 3)


def test_unknown_weighting_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as caught:
        worked_methodology(weighting="per-trust")
    assert "weighting" in str(caught.value)


def test_published_results_do_not_change(worked):
    m, trusts, inputs = worked
    assert m.weighting == PER_METRIC
    published = score_batch(m, trusts, inputs).leagues["acute"]
    for entry in published.entries:  # METHODOLOGY §8, as the worked example states it
        assert (str(entry.average), entry.rank) == (BEFORE[entry.trust_code][3], BEFORE[entry.trust_code][6])


# The worked example per domain (M1, M3 access; M2 safety): A (1+1)/2 and 4 -> 2.50, raw 3;
# B (5/2+2)/2 and 1 -> 1.625 -> 1.63, raw 1, capped to 3; C (5/2+3)/2 and 5/2 -> 2.63; D 4.00.
PER_DOMAIN_TABLE = {"A": ("2.50", 3, 2), "B": ("1.63", 3, 1), "C": ("2.63", 3, 3), "D": ("4.00", 4, 4)}


@pytest.mark.parametrize("code", sorted(PER_DOMAIN_TABLE))
def test_batch_ranks_by_the_per_domain_average(worked, code):
    m, trusts, inputs = worked
    entry = score_batch(m.replace(weighting=PER_DOMAIN), trusts, inputs).leagues["acute"].get(code)
    assert (str(entry.average), entry.segment, entry.rank) == PER_DOMAIN_TABLE[code]


def test_incremental_engine_refuses_per_domain(worked):
    m, trusts, _ = worked
    with pytest.raises(InvalidInput) as caught:
        IncrementalEngine(m.replace(weighting=PER_DOMAIN), trusts)
    assert "weighting" in str(caught.value)


def test_explanation_shows_the_average_the_weighting_uses(worked):
    m, trusts, inputs = worked
    # A scores M1 1, M2 4, M3 1: 2 per metric; (1+1)/2 and 4 -> 5/2 per domain.
    for weighting, exact, published in ((PER_METRIC, F(2), "2.00"), (PER_DOMAIN, F(5, 2), "2.50")):
        mw = m.replace(weighting=weighting)
        store = fold(mw, trusts, inputs)
        explanation = explain_trust(mw, store, results_from_store(mw, store), "A")
        assert explanation.average_exact == exact
        assert str(explanation.result.average) == published
