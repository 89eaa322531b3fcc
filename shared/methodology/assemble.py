"""Turn per-trust scoring state into published results; shared by both paths (METHODOLOGY §3-§6)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

from .catalogue import DOMAINS
from .inputs import TrustInfo
from .ranking import entry_order
from .results import LeagueResult, TrustResult
from .rounding import hundredths_decimal, mean_hundredths, two_dp
from .segments import Cuts, SegmentState, distance_to_next, in_deficit
from .uncertainty import likely_ranges
from .versions import Methodology

UNKNOWN_FINANCE = "financial deficit flag unknown: treated as not in deficit"


@dataclass(frozen=True)
class TrustCore:
    """What a scoring path computed for one trust, before ranges and presentation."""

    info: TrustInfo
    scores: dict[str, Fraction]
    avg_h: int | None
    state: SegmentState
    rank: int | None
    unadjusted_rank: int | None
    applicable: int
    finance: tuple[bool | None, bool]
    intensive: bool

    @property
    def key(self) -> tuple[int, int] | None:
        return None if self.avg_h is None else (self.state.segment, self.avg_h)


def domain_scores(m: Methodology, scores: dict[str, Fraction]) -> dict:
    """Mean metric score per domain, context only (§3)."""
    by_domain: dict[str, list[Fraction]] = {}
    for metric_id, score in scores.items():
        by_domain.setdefault(m.metrics[metric_id].domain, []).append(score)
    return {d: hundredths_decimal(mean_hundredths(v)) for d in DOMAINS if (v := by_domain.get(d))}


def trust_result(m: Methodology, core: TrustCore, cuts: Cuts | None,
                 sorted_keys: list) -> TrustResult:
    """One TrustResult, with distance to the next segment and likely ranges (§6)."""
    deficit_flag, support = core.finance
    deficit = in_deficit(deficit_flag, support)
    avg_range = rank_range = None
    if core.key is not None:
        (lo, hi), rank_range = likely_ranges(m, core.info.code, core.scores, cuts, deficit,
                                             core.intensive, core.key, sorted_keys)
        avg_range = (hundredths_decimal(lo), hundredths_decimal(hi))
    return TrustResult(
        methodology_version=m.version, league=core.info.league,
        trust_code=core.info.code, trust_name=core.info.name,
        average=hundredths_decimal(core.avg_h), raw_segment=core.state.raw,
        segment=core.state.segment, capped=core.state.capped, rank=core.rank,
        unadjusted_rank=core.unadjusted_rank, scored_metrics=len(core.scores),
        applicable_metrics=core.applicable, metric_scores=dict(sorted(core.scores.items())),
        domain_scores=domain_scores(m, core.scores), in_deficit=deficit_flag,
        receives_deficit_support=support, intensive_support=core.intensive,
        distance_to_next_segment=distance_to_next(m, core.avg_h, core.state, cuts, deficit),
        average_range=avg_range, rank_range=rank_range,
        warnings=(UNKNOWN_FINANCE,) if deficit_flag is None and not support else (),
    )


def league_result(m: Methodology, league: str, cores: Iterable[TrustCore],
                  cuts: Cuts | None) -> LeagueResult:
    """A league table from its trusts' cores, listed by rank then code (§6)."""
    cores = list(cores)
    sorted_keys = sorted(c.key for c in cores if c.key is not None)
    return league_of_entries(m, league, [trust_result(m, c, cuts, sorted_keys) for c in cores], cuts)


def league_of_entries(m: Methodology, league: str, entries: Iterable[TrustResult],
                      cuts: Cuts | None) -> LeagueResult:
    """A league table from its trusts' results, listed by rank then code (§6)."""
    ordered = sorted(entries, key=lambda r: entry_order(r.rank, r.trust_code))
    shown = None if cuts is None else tuple(two_dp(c / 100) for c in cuts)
    return LeagueResult(league, m.version, tuple(ordered), shown)
