"""The Redis write explains again only the trusts whose explanation may have moved, keeping the metric
lines known to be unchanged, and that gives exactly the explanations a check of every trust gives."""

from __future__ import annotations

import random

import pytest

from services.scoring.scorer import PartitionScorer
from shared.events import FinanceStatusChanged, ObservationReceived
from tests.support.inputs import ref
from tests.support.streams import M, REGISTER, generate


def events(items, seed: int):
    out = []
    for n, item in enumerate(items):
        b = item.body
        if item.kind == "obs":
            out.append(ObservationReceived(observation_id=b["observation_id"], trust=ref(b["trust_code"]),
                                           metric_id=b["metric_id"], period=b["period"], value=b["value"]))
        else:
            out.append(FinanceStatusChanged(change_id=f"fin-{seed}-{n}", trust=ref(b["code"]),
                                            in_deficit=b["in_deficit"], receives_deficit_support=b["support"]))
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_candidates_give_the_same_explanations_as_checking_every_trust(seed):
    league = "acute"
    stream = events(generate(seed, leagues=(league,), n=600), seed)
    quick, full = PartitionScorer(M, league), PartitionScorer(M, league)
    rng = random.Random(seed)
    i, writes, skipped, reused = 0, 0, 0, 0
    while i < len(stream):
        chunk = stream[i:i + rng.choice([1, 1, 2, 3, 5, 20])]
        i += len(chunk)
        touched: set[str] = set()
        for event in chunk:
            touched |= quick.apply(event).dirty.get(league, set())
            full.apply(event)
        if league not in full.leagues():
            continue
        quick.snapshot(league)
        full.snapshot(league)
        plan = quick.explanation_plan(league, touched=touched)
        assert quick.changed_explanations(league, codes=plan.codes, known=plan.known) == full.changed_explanations(league)
        writes += 1
        skipped += len(full.members(league)) - len(plan.codes)
        reused += sum(len(lines) for lines in plan.known.values())
    assert writes > 100
    assert skipped > 0, "the candidates never left a trust out: nothing was saved"
    assert reused > 0, "no metric line was ever taken as known"


def test_a_line_whose_position_peers_shift_makes_every_trust_a_candidate():
    league = "acute"
    codes = sorted(c for c, t in REGISTER.items() if t.league == league)[:8]
    banded = next(m for m in M.metrics.values() if m.bands and m.applies(league, codes[0]))
    scorer = PartitionScorer(M, league)
    for n, code in enumerate(codes):
        scorer.apply(ObservationReceived(observation_id=f"b{n}", trust=ref(code), metric_id=banded.id,
                                         period="2025-12", value=-0.5 - n))
    scorer.snapshot(league)
    first = scorer.explanation_plan(league, everything=True).codes
    scorer.changed_explanations(league, True, first)
    assert scorer.explanation_plan(league).codes == []
    # A new value for one trust keeps every other trust's band but shifts their positions among peers.
    out = scorer.apply(ObservationReceived(observation_id="b-new", trust=ref(codes[0]), metric_id=banded.id,
                                           period="2025-12", value=-7.9))
    scorer.snapshot(league)
    assert scorer.explanation_plan(league, touched=out.dirty[league]).codes == scorer.members(league)
