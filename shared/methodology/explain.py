"""The derivation of one trust's result, as data and as text (METHODOLOGY §2-§6)."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from typing import Any, Callable

from .averaging import exact_average
from .catalogue import BY_TRUST_TYPE, MetricDefinition
from .errors import UnknownTrust
from .results import Results, TrustResult, json_safe
from .rounding import two_dp, two_dp_text
from .scoring import mean_position, oriented
from .store import InputStore
from .uncertainty import METHOD as RANGE_METHOD
from .versions import Methodology


@dataclass(frozen=True)
class MetricLine:
    """One metric: the value, its peers, its position among them and its score (§2)."""

    metric_id: str
    name: str
    domain: str
    role: str
    unit: str
    direction: str
    kind: str
    provisional: bool
    status: str  # scored, too few peers, not reported, not applicable, contextual
    period: str | None
    value: Fraction | None
    periods_received: int
    peers: int | None
    position: Fraction | None
    score: Fraction | None
    rule: str

    @cached_property
    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, built once per line (a line is reused while its inputs are unchanged)."""
        return {f: json_safe(getattr(self, f)) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Explanation:
    """The full derivation of one trust's result (§2-§6)."""

    methodology_version: str
    trust_code: str
    trust_name: str
    league: str
    metrics: tuple[MetricLine, ...]
    average_exact: Fraction | None
    result: TrustResult
    segment_rule: str
    cap: str
    segment5: str
    rank_reason: str
    range_method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: Decimals and Fractions as 2-dp strings, the exact average as 'n/d'."""
        out = {k: json_safe(getattr(self, k)) for k in self.__dataclass_fields__ if k not in ("metrics", "result")}
        out["average_exact"] = None if self.average_exact is None else str(self.average_exact)
        out["result"] = self.result.to_dict()
        out["metrics"] = [line.as_dict for line in self.metrics]
        return out

    def to_text(self) -> str:
        r = self.result
        lines = [f"{self.trust_code} {self.trust_name} ({self.league}, {self.methodology_version})"]
        for x in self.metrics:
            value = "-" if x.value is None else f"{two_dp(x.value)} ({x.period})"
            lines.append(f"  {x.metric_id:<11} {x.name[:48]:<48} value {value}; {x.status}"
                         + (f"; {x.rule}" if x.rule else ""))
        lines += [
            f"average: {r.average} from {r.scored_metrics} of {r.applicable_metrics} "
            f"applicable metrics (exact {self.average_exact})",
            f"segment: {self.segment_rule}", f"financial cap: {self.cap}",
            f"segment 5: {self.segment5}", f"rank: {self.rank_reason}",
            f"unadjusted rank: {'not ranked' if r.unadjusted_rank is None else r.unadjusted_rank}",
            f"distance to next better segment: {distance_text(r)}",
            f"likely ranges: average {_span(r.average_range)}, rank {_span(r.rank_range)}",
        ] + [f"warning: {w}" for w in r.warnings]
        return "\n".join(lines)


def distance_text(r: TrustResult) -> str:
    """The distance to the next better segment, or why there is none (METHODOLOGY §6)."""
    if r.distance_to_next_segment is not None:
        return f"{r.distance_to_next_segment} (the average must fall by this much)"
    if r.segment is None:
        return "none: not segmented (too few scored metrics)"
    if r.segment == 1:
        return "none: already in segment 1, the best"
    if r.segment == 5:
        return "none: segment 5 (intensive support) is a decision, not a calculation"
    return "none: held at the financial cap; a better average alone cannot lift it"


def _span(pair) -> str:
    return "-" if pair is None else f"{pair[0]}-{pair[1]}"


def _peer_values(m: Methodology, store: InputStore, metric: MetricDefinition, league: str) -> list:
    """The oriented values of the trusts a metric compares within a league, sorted (§2)."""
    same = [c for c in store.latest[metric.id] if metric.applies(store.trusts[c].league, c)
            and (metric.comparison_group != BY_TRUST_TYPE or store.trusts[c].league == league)]
    return sorted(oriented(metric, store.latest[metric.id][c].value) for c in same)


#: positions(metric, league, trust code, value) -> (mean 1-based position best->worst, peers)
Positions = Callable[[MetricDefinition, str, str, Fraction], tuple[Fraction, int]]


class SortedPeers:
    """Positions from each (metric, league)'s peer values, sorted once per set of explanations."""

    def __init__(self, m: Methodology, store: InputStore) -> None:
        self.m, self.store = m, store
        self.sorted: dict[tuple[str, str], list[Fraction]] = {}

    def __call__(self, metric: MetricDefinition, league: str, code: str, value: Fraction) -> tuple[Fraction, int]:
        key = (metric.id, league)
        values = self.sorted.get(key)
        if values is None:
            values = self.sorted[key] = _peer_values(self.m, self.store, metric, league)
        return mean_position(values, oriented(metric, value)), len(values)


def _metric_line(m: Methodology, store: InputStore, metric: MetricDefinition,
                 r: TrustResult, positions: Positions, memo: dict | None = None) -> MetricLine | None:
    code, league = r.trust_code, r.league
    reading = store.latest.get(metric.id, {}).get(code)
    applies = metric.applies(league, code)
    if not applies and reading is None:
        return None
    place = None
    ranked = applies and metric.scoring and reading is not None
    score = r.metric_scores.get(metric.id)
    received = len(store.history.get((code, metric.id), {}))
    if memo is not None:  # the same inputs give the same line: reuse it
        # A peers' version that stands for the positions (see engine._GroupPositions) saves looking
        # the position up while the trust's metric group is unchanged.
        version = getattr(positions, "version", None)
        peers = version(metric, league, code) if version and ranked else None
        last = memo.get((code, metric.id))
        if last is not None and peers is not None and last[0] == peers and last[1][:2] == (reading, applies) \
                and last[1][3:] == (score, received):
            return last[2]
        if ranked:
            place = positions(metric, league, code, reading.value)
        signature = (reading, applies, place, score, received)
        if last is not None and last[1] == signature:
            memo[(code, metric.id)] = (peers, signature, last[2])
            return last[2]
        line = _build_line(m, metric, reading, applies, place, score, received)
        memo[(code, metric.id)] = (peers, signature, line)
        return line
    if ranked:
        place = positions(metric, league, code, reading.value)
    return _build_line(m, metric, reading, applies, place, score, received)


def _build_line(m: Methodology, metric: MetricDefinition, reading, applies: bool,
                place: tuple[Fraction, int] | None, score: Fraction | None, received: int) -> MetricLine:
    peers = position = None
    rule = ""
    if not applies:
        status, score = "not applicable: kept as history, not scored", None
    elif not metric.scoring:
        status, score = "contextual: shown, never scored", None
    elif reading is None:
        status, score = "not reported: left out of the average", None
    else:
        position, peers = place
        status = "scored" if score is not None else f"unscored: fewer than {m.min_peers} peers"
        if metric.bands:
            rule = f"banded ({metric.direction} is better) -> {score}"
        elif score is not None:
            rule = (f"{m.mapping_of(metric)}: position {two_dp_text(position)} of {peers} "
                    f"({metric.direction} is better) -> {two_dp_text(score)}")
    return MetricLine(
        metric.id, metric.name, metric.domain, metric.role, metric.unit, metric.direction,
        metric.kind, metric.provisional, status,
        None if reading is None else reading.period.text,
        None if reading is None else reading.value,
        received, peers, position, score, rule)


def _segment_rule(r: TrustResult, cutoffs) -> str:
    if r.average is None:
        return "unsegmented: fewer scored metrics than required"
    if r.raw_segment == 4:
        return f"average {r.average} > {cutoffs[2]} -> raw segment 4"
    return f"average {r.average} <= {cutoffs[r.raw_segment - 1]} -> raw segment {r.raw_segment}"


def _cap(m: Methodology, r: TrustResult) -> str:
    if r.capped:
        return (f"in deficit: raw segment {r.raw_segment} raised to {r.segment} "
                f"(no better than {m.financial_cap})")
    if r.in_deficit or r.receives_deficit_support:
        return f"in deficit; segment {r.raw_segment} is already no better than the cap"
    if r.in_deficit is None and not r.receives_deficit_support:
        return "deficit flag unknown: treated as not in deficit"
    return "not in deficit: no cap"


class _Ladder:
    """A league's ranked trusts by (segment, average), to say why each rank is what it is (§6)."""

    def __init__(self, entries) -> None:
        ranked = [e for e in entries if e.rank is not None]
        self.keys = sorted((e.segment, e.average) for e in ranked)
        self.by_key: dict = {}
        for e in ranked:
            self.by_key.setdefault((e.segment, e.average), []).append(e.trust_code)

    def reason(self, r: TrustResult) -> str:
        if r.rank is None:
            return "unranked: no average"
        key = (r.segment, r.average)
        better = bisect_left(self.keys, key)
        ties = [c for c in self.by_key.get(key, ()) if c != r.trust_code]
        text = f"{r.rank} = 1 + {better} trusts with a better (segment, average) of {len(self.keys)}"
        return text + (f"; shares it with {', '.join(ties)}" if ties else "")


def rank_reasons(entries) -> dict[str, str]:  # noqa: ANN001 - one league's TrustResults
    """Why each trust of one league holds its rank, as its explanation says (§6)."""
    ladder = _Ladder(entries)
    return {e.trust_code: ladder.reason(e) for e in entries}


def explain_trust(m: Methodology, store: InputStore, results: Results, code: str) -> Explanation:
    """Build the explanation of one trust from the inputs and the scored results."""
    return explain_trusts(m, store, results, [code])[code]


def explain_trusts(m: Methodology, store: InputStore, results: Results, codes,
                   positions: Positions | None = None, lines: dict | None = None,
                   known: dict | None = None) -> dict[str, Explanation]:
    """Explanations of several trusts, sharing each league's peer positions and rank ladder.

    ``positions`` says where a trust's value stands among its peers; by default each metric's
    peers are sorted once for the whole call (the incremental engine passes its live order).
    ``lines``, kept by a caller between calls, lets a metric line whose inputs are unchanged be
    reused rather than rebuilt. ``known`` maps a trust to metric lines its caller knows are
    unchanged (its reading, score and position in those metrics have not moved): they are taken as
    they are, and only the trust's other lines are looked at.
    """
    positions = positions or SortedPeers(m, store)
    ladders: dict = {}
    found = {e.trust_code: e for lg in results.leagues.values() for e in lg.entries}
    out = {}
    for code in codes:
        r = found.get(code)
        if r is None:
            raise UnknownTrust(code)
        league = results.leagues[r.league]
        if r.league not in ladders:
            ladders[r.league] = _Ladder(league.entries)
        out[code] = _explanation(m, store, r, league, ladders[r.league], positions, lines,
                                 known.get(code) if known else None)
    return out


def _explanation(m: Methodology, store: InputStore, r: TrustResult, league, ladder: _Ladder,
                 positions: Positions, memo: dict | None = None,
                 known: dict[str, MetricLine] | None = None) -> Explanation:
    code = r.trust_code
    known = known or {}
    lines = tuple(x for metric in m.metrics.values()
                  if (x := known.get(metric.id) or _metric_line(m, store, metric, r, positions, memo)) is not None)
    seg5 = ("intensive support: segment 5" if r.intensive_support and m.segment5
            else "not in intensive support")
    return Explanation(
        m.version, code, r.trust_name, r.league, lines, exact_average(m, r.metric_scores), r,
        _segment_rule(r, league.segment_cutoffs), _cap(m, r), seg5,
        ladder.reason(r), RANGE_METHOD)
