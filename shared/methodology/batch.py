"""The batch path: a snapshot of inputs -> every league's results, computed from scratch.

It shares the input store and the result assembly with the incremental engine but scores,
averages, segments and ranks independently, so the two paths check each other.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Mapping

from .assemble import TrustCore, league_result
from .averaging import average_hundredths
from .catalogue import BY_TRUST_TYPE
from .inputs import TrustInfo
from .ranking import competition_ranks
from .results import Results
from .scoring import score_group
from .segments import in_deficit, league_cuts, segment_state
from .store import InputStore
from .versions import ALL_LEAGUES_KEY, Methodology


def metric_scores(m: Methodology, store: InputStore) -> dict[str, dict[str, Fraction]]:
    """Every trust's metric scores within each metric's comparison group (§1, §2)."""
    scores: dict[str, dict[str, Fraction]] = {code: {} for code in store.trusts}
    for metric_id, metric in m.metrics.items():
        if not metric.scoring:
            continue
        groups: dict[str, dict[str, Fraction]] = {}
        for code, value in store.values_of(metric_id).items():
            league = store.trusts[code].league
            if metric.applies(league, code):
                group = league if metric.comparison_group == BY_TRUST_TYPE else ALL_LEAGUES_KEY
                groups.setdefault(group, {})[code] = value
        for values in groups.values():
            for code, score in score_group(m.mapping_of(metric), metric, m.min_peers,
                                           values).items():
                scores[code][metric_id] = score
    return scores


def compute_cores(m: Methodology, store: InputStore) -> dict[str, tuple[list[TrustCore], object]]:
    """League slug -> (trust cores, segment cut-offs), from scratch (§2-§6)."""
    scores = metric_scores(m, store)
    averages = {code: average_hundredths(m, s) for code, s in scores.items()}
    by_league: dict[str, list[TrustInfo]] = {}
    for info in store.trusts.values():
        by_league.setdefault(info.league, []).append(info)
    out = {}
    for league in m.leagues:
        members = by_league.get(league, [])
        if not members:
            continue
        cuts = league_cuts(m, sorted(a for t in members if (a := averages[t.code]) is not None))
        states = {
            t.code: segment_state(m, averages[t.code], cuts,
                                  in_deficit(*store.deficit_of(t.code)),
                                  store.intensive.get(t.code, False))
            for t in members
        }
        ranked = [t.code for t in members if averages[t.code] is not None]
        ranks = competition_ranks({c: (states[c].segment, averages[c]) for c in ranked})
        unadjusted = competition_ranks({c: averages[c] for c in ranked})
        out[league] = ([
            TrustCore(info=t, scores=scores[t.code], avg_h=averages[t.code],
                      state=states[t.code], rank=ranks.get(t.code),
                      unadjusted_rank=unadjusted.get(t.code),
                      applicable=len(m.metrics.scoring_for(league, t.code)),
                      finance=store.deficit_of(t.code),
                      intensive=store.intensive.get(t.code, False))
            for t in members
        ], cuts)
    return out


def results_from_store(m: Methodology, store: InputStore) -> Results:
    cores = compute_cores(m, store)
    return Results(m.version, {league: league_result(m, league, c, cuts)
                               for league, (c, cuts) in cores.items()})


def fold(m: Methodology, trusts: Mapping[str, TrustInfo], inputs: Iterable) -> InputStore:
    """Fold inputs in order into a fresh store (duplicates, revisions, late periods: §2)."""
    store = InputStore(m, trusts)
    for item in inputs:
        store.apply(item)
    return store


def score_batch(m: Methodology, trusts: Mapping[str, TrustInfo], inputs: Iterable) -> Results:
    """Score a snapshot of inputs: every league's results, from scratch (§2-§6)."""
    return results_from_store(m, fold(m, trusts, inputs))
