"""The sensitivity view against the batch methodology run with each alternative (shared/methodology)."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from shared.methodology import (
    FinanceStatus, IntensiveSupport, Observation, get_methodology, load_trust_register, score_batch,
)
from shared.methodology.batch import fold, results_from_store
from shared.methodology.explain import explain_trusts

from services.publisher.errors import NotFound
from services.publisher.sensitivity import ALTERNATIVES, sensitivity
from services.publisher.league_views import LeagueViews

M = get_methodology("nof-2025-26")
LEAGUE = "ambulance"
REGISTER = load_trust_register()
TRUSTS = {c: t for c, t in REGISTER.items() if t.league == LEAGUE}
SEEDS = (1, 2, 3, 4)


def league_inputs(seed: int) -> list:
    """Every scoring metric for every ambulance trust at 2 dp (as the read model keeps them), some trusts
    not reporting some metrics, three in deficit (one of them strong, so the cap matters), one in segment 5."""
    rng = random.Random(seed)
    codes = sorted(TRUSTS)
    out: list = []
    for code in codes:
        for metric_id in M.metrics.scoring_for(LEAGUE, code):
            if rng.random() < 0.15:
                continue
            unit = M.metric(metric_id).unit
            high = 100 if unit == "percent" else 60
            value = Decimal(rng.randrange(100, high * 100)) / 100
            out.append(Observation(code, metric_id, "2025-26 Q2", value, f"{seed}-{code}-{metric_id}"))
    in_deficit = set(rng.sample(codes, 3))
    out += [FinanceStatus(c, c in in_deficit, change_id=f"fin-{c}") for c in codes]
    out.append(IntensiveSupport(rng.choice(codes), True, change_id="rsp"))
    return out


def read_model(inputs: list) -> tuple[dict, dict]:
    """The league snapshot and the explanations as the scorer writes them (shared/league_cache.py)."""
    store = fold(M, TRUSTS, inputs)
    results = results_from_store(M, store)
    table = results.leagues[LEAGUE]
    snapshot = {"league": LEAGUE, "version": 7, "methodology_version": M.version,
                "entries": [{**e.to_dict(), "region": TRUSTS[e.trust_code].region} for e in table.entries]}
    explained = explain_trusts(M, store, results, [e.trust_code for e in table.entries])
    return snapshot, {code: {**x.to_dict(), "version": 7} for code, x in explained.items()}


@pytest.fixture(scope="module", params=SEEDS)
def case(request):
    inputs = league_inputs(request.param)
    snapshot, explanations = read_model(inputs)
    return inputs, snapshot, sensitivity(M, snapshot, explanations, REGISTER)


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda a: a.key)
def test_each_method_ranks_as_the_batch_methodology_does(case, alternative):
    inputs, _, view = case
    batch = score_batch(alternative.methodology(M), TRUSTS, inputs).leagues[LEAGUE]
    expected = {e.trust_code: e.rank for e in batch.entries}
    assert {e["trust_code"]: e["ranks"][alternative.key] for e in view["entries"]} == expected
    assert any(r is not None for r in expected.values())


def test_the_published_method_reproduces_the_table(case):
    _, snapshot, view = case
    assert view["reproduces_published"] is True
    assert [e["published_rank"] for e in view["entries"]] == [e["rank"] for e in snapshot["entries"]]
    for e in view["entries"]:
        assert e["ranks"]["published"] == e["published_rank"]


def test_span_is_the_range_of_ranks_over_the_methods(case):
    _, _, view = case
    for e in view["entries"]:
        ranks = [r for r in e["ranks"].values() if r is not None]
        assert (e["lowest_rank"], e["highest_rank"]) == ((min(ranks), max(ranks)) if ranks else (None, None))
        assert e["span"] == (max(ranks) - min(ranks) if ranks else None)


def test_methods_are_named_with_their_methodology_versions(case):
    _, _, view = case
    assert view["methodology_version"] == "nof-2025-26"
    assert [(x["key"], x["methodology_version"]) for x in view["methods"]] == [
        ("published", "nof-2025-26"), ("min-max", "nof-2025-26+min-max"), ("quartile", "nof-2025-26+quartile"),
        ("domain-weight", "nof-2025-26+domain-weight"), ("no-cap", "nof-2025-26+no-cap")]


def test_the_alternatives_move_some_ranks_and_the_summary_says_so():
    views = [sensitivity(M, *read_model(league_inputs(seed)), REGISTER) for seed in SEEDS]
    moved = [v for v in views if any(e["span"] for e in v["entries"])]
    assert moved, "no alternative moved any rank in any generated league: the view shows nothing"
    for view in moved:
        assert "get a different rank under at least one of the 5 methods" in view["summary"]


def test_a_value_whose_lost_decimals_decided_a_tie_is_reported():
    inputs = league_inputs(1)
    snapshot, explanations = read_model(inputs)
    code = snapshot["entries"][0]["trust_code"]
    snapshot["entries"][0]["rank"] = 99  # the table says something the shown values cannot give
    view = sensitivity(M, snapshot, explanations, REGISTER)
    assert view["reproduces_published"] is False
    assert next(e for e in view["entries"] if e["trust_code"] == code)["highest_rank"] == 99


class CountingReadModel:
    def __init__(self, snapshot: dict, explanations: dict) -> None:
        self.snapshot, self.explanations, self.reads = snapshot, explanations, 0

    async def league(self, slug: str):
        self.reads += 1
        return self.snapshot if slug == LEAGUE else None

    async def trust(self, code: str):
        return self.explanations.get(code)


def test_the_view_is_computed_once_per_league_version():
    snapshot, explanations = read_model(league_inputs(2))
    model, cache = CountingReadModel(snapshot, explanations), LeagueViews(REGISTER)

    async def scenario():
        first = await cache.view(model, LEAGUE, 7)
        again = await cache.view(model, LEAGUE, 7)
        assert again is first and model.reads == 1
        model.snapshot = {**snapshot, "version": 8}
        newer = await cache.view(model, LEAGUE, 8)
        assert newer is not first and newer["version"] == 8 and model.reads == 2
        with pytest.raises(NotFound, match="has no table yet"):
            await cache.view(model, "acute", 1)

    asyncio.run(scenario())


def test_metric_spread_gives_five_numbers_of_the_values_shown():
    from services.publisher.spread import metric_spread

    snapshot, explanations = read_model(league_inputs(3))
    spread = {x["metric_id"]: x for x in metric_spread(M, snapshot, explanations, REGISTER)["metrics"]}
    for metric_id, x in spread.items():
        shown = sorted(float(line["value"]) for e in explanations.values() for line in e["metrics"]
                       if line["metric_id"] == metric_id and line["value"] is not None)
        assert x["trusts"] == len(shown) and (x["min"], x["max"]) == (shown[0], shown[-1])
        assert x["min"] <= x["q1"] <= x["median"] <= x["q3"] <= x["max"]
        if len(shown) % 2:
            assert x["median"] == shown[len(shown) // 2]
    assert spread, "no metric spread computed"
