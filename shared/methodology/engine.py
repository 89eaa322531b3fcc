"""The incremental path: apply one input, get back exactly what it changed (METHODOLOGY §2-§6, §8).

Cost follows the change, not the league: an observation re-scores only the peers whose
position in that metric moved (all of them only when the group grows or, for min-max, its
bounds move), re-averages only trusts whose score moved, and re-ranks only trusts whose
key lies between a moved trust's old and new place. Quartile cut-offs, when they move,
re-segment the league.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Generator, Iterable, Iterator, Mapping

from .assemble import TrustCore, league_of_entries, trust_result
from .catalogue import BY_TRUST_TYPE, MetricDefinition
from .engine_state import Pass, TrustState
from .errors import InvalidInput
from .explain import Explanation, Positions, SortedPeers, explain_trusts
from .groups import MetricGroup
from .inputs import FinanceStatus, Observation, Retraction, TrustInfo
from .results import Cause, Change, LeagueResult, Results, Standing
from .rounding import hundredths_decimal, to_hundredths
from .segments import in_deficit, segment_state
from .standings import Standings
from .store import FlagChanged, InputStore, ValueChanged
from .uncertainty import end_keys, ranks_of_keys
from .versions import ALL_LEAGUES_KEY, PER_METRIC, QUARTILE, RANK_LINEAR, Methodology


class IncrementalEngine:
    """Holds every league of one methodology version and updates them one input at a time.

    ``inputs`` given at construction are bulk-loaded (no changes reported). After any
    sequence of ``apply`` calls, ``results()`` equals ``score_batch`` on the same inputs.
    """

    #: Share of a league that must move before re-ranking all of it beats walking the
    #: spans between old and new places (both give the same ranks).
    crowd = 0.5

    def __init__(self, m: Methodology, trusts: Mapping[str, TrustInfo],
                 inputs: Iterable = ()) -> None:
        if m.weighting != PER_METRIC:  # its running tallies average per metric (§3)
            raise InvalidInput("weighting", f"the incremental engine averages per metric; "
                                            f"{m.weighting!r} is scored by the batch path only")
        self.methodology = m
        self._store = InputStore(m, {})
        self._trusts: dict[str, TrustState] = {}
        self._groups: dict[tuple[str, str], MetricGroup] = {}
        self._standings: dict[str, Standings] = {}
        self._cache: dict[str, LeagueResult] = {}
        # trust code -> (its own state, its last result, that result's average range in hundredths)
        self._results: dict[str, tuple] = {}
        self._lines: dict[tuple[str, str], tuple] = {}  # (trust, metric) -> (its inputs, its explanation line)
        self._applicable_counts: dict[tuple[str, str], int] = {}  # (league, trust) -> scoring metrics that apply
        for info in trusts.values():
            self.add_trust(info)
        self._bulk_load(inputs)

    # -- inputs -------------------------------------------------------------------------
    def add_trust(self, info: TrustInfo) -> list[Change]:
        """Register an organisation; a new one is listed unranked until it has scores."""
        known = info.code in self._trusts
        if not self._store.add_trust(info):
            if known:  # same league, new name or region: only the listing changes
                self._trusts[info.code].info = info
                self._cache.pop(info.league, None)
            return []
        t = self._trusts[info.code] = TrustState(info, self.methodology)
        self._standings.setdefault(t.league, Standings(self.methodology)).members.add(info.code)
        self._cache.pop(t.league, None)
        cause = Cause("trust", info.code, info.code)
        return [Change(t.league, info.code, "trust_added", None, None, info.name, cause)]

    def apply(self, item) -> list[Change]:
        """Apply one Observation, FinanceStatus, IntensiveSupport or Retraction; return its changes."""
        effect = self._store.apply(item)
        if effect is None:
            return []
        ctx = Pass(_cause(item))
        t = self._trusts[effect.trust_code]
        if isinstance(effect, ValueChanged):
            self._rescore(self.methodology.metrics[effect.metric_id], t, effect.new, ctx)
        else:
            self._flag(t, effect, ctx)
        self._settle(ctx)
        for league in ctx.leagues:
            self._cache.pop(league, None)
        return ctx.changes

    # -- the cascade ----------------------------------------------------------------------
    def _group(self, metric: MetricDefinition, league: str) -> MetricGroup:
        key = group_key(metric, league)
        group = self._groups.get(key)
        if group is None:
            m = self.methodology
            group = self._groups[key] = MetricGroup(
                metric, m.mapping_of(metric), m.min_peers)
        return group

    def _rescore(self, metric: MetricDefinition, t: TrustState, value: Fraction | None,
                 ctx: Pass) -> None:
        """Step 1 (§2): re-score the peers whose position in this metric moved (``value`` None: the
        trust's value was retracted and it leaves the group)."""
        if not (metric.scoring and metric.applies(t.league, t.info.code)):
            return  # contextual or not applicable: kept as history, never scored
        group = self._group(metric, t.league)
        mid = metric.id
        moved = group.remove(t.info.code) if value is None else group.update(t.info.code, value)
        for code in list(moved):
            peer = self._trusts[code]
            old, new = peer.scores.get(mid), group.score(code) if code in group.keys else None
            if old == new or (old and new and old[0] * new[1] == new[0] * old[1]):
                continue
            count = peer.tally.count
            if old is not None:
                peer.tally.remove(*old)
                del peer.scores[mid]
            if new is not None:
                peer.tally.add(*new)
                peer.scores[mid] = new
            ctx.record(peer, "metric_score", old and Fraction(*old), new and Fraction(*new), mid)
            if count != peer.tally.count:
                ctx.record(peer, "completeness", count, peer.tally.count)
            ctx.averaged.add(code)

    def _flag(self, t: TrustState, effect: FlagChanged, ctx: Pass) -> None:
        """Finance cap or segment 5 changed (§5): only this trust is re-segmented."""
        ctx.record(t, effect.kind, effect.old, effect.new)
        ctx.resegment.add(t.info.code)

    def _settle(self, ctx: Pass) -> None:
        """Steps 2-4 and ranking (§3-§6) for everything step 1 touched."""
        m = self.methodology
        moved_leagues = set()
        for code in ctx.averaged:
            t = self._trusts[code]
            enough = t.tally.count >= m.min_scored_metrics
            avg_h = t.tally.mean_hundredths() if enough else None
            if avg_h != t.avg_h:
                ctx.record(t, "average", hundredths_decimal(t.avg_h), hundredths_decimal(avg_h))
                self._standings[t.league].averages.move(
                    code, None if t.avg_h is None else (t.avg_h,),
                    None if avg_h is None else (avg_h,))
                t.avg_h = avg_h
                ctx.resegment.add(code)
                moved_leagues.add(t.league)
        if m.segment_strategy == QUARTILE:
            for league in moved_leagues:
                if self._standings[league].refresh_cuts():
                    ctx.leagues.add(league)
                    ctx.resegment.update(self._standings[league].members)
        for code in ctx.resegment:
            self._resegment(self._trusts[code], ctx)
        for league in {self._trusts[c].league for c in ctx.resegment}:
            self._rerank(league, ctx)

    def _resegment(self, t: TrustState, ctx: Pass) -> None:
        store, code = self._store, t.info.code
        cuts = self._standings[t.league].cuts
        state = segment_state(self.methodology, t.avg_h, cuts,
                              in_deficit(*store.deficit_of(code)), store.intensive.get(code, False))
        for kind, old, new in zip(("raw_segment", "segment", "capped"),
                                  (t.state.raw, t.state.segment, t.state.capped),
                                  (state.raw, state.segment, state.capped)):
            if old != new:
                ctx.record(t, kind, old, new)
        t.state = state
        if t.key != t.placed:
            self._standings[t.league].ranks.move(code, t.placed, t.key)
            t.placed = t.key

    def _rerank(self, league: str, ctx: Pass) -> None:
        standings = self._standings[league]
        moved = {c for c in ctx.resegment if self._trusts[c].league == league}
        for ladder, kind, attr, key in (
            (standings.ranks, "rank", "rank", lambda t: t.key),
            (standings.averages, "unadjusted_rank", "urank",
             lambda t: None if t.avg_h is None else (t.avg_h,)),
        ):
            crowd = len(moved) >= self.crowd * len(standings.members)
            for code in standings.members if crowd else set(ladder.affected()) | moved:
                t = self._trusts[code]
                k = key(t)
                rank = None if k is None else ladder.rank(k)
                if rank != getattr(t, attr):
                    ctx.record(t, kind, getattr(t, attr), rank)
                    setattr(t, attr, rank)
            ladder.forget()

    # -- bulk load ------------------------------------------------------------------------
    def _bulk_load(self, inputs: Iterable) -> None:
        """Fold a snapshot and build every structure at once, reporting nothing."""
        for item in inputs:
            self._store.apply(item)
        snapshot: dict[MetricGroup, dict[str, Fraction]] = {}
        for metric_id, metric in self.methodology.metrics.items():
            for code, value in self._store.values_of(metric_id).items():
                t = self._trusts[code]
                if metric.scoring and metric.applies(t.league, code):
                    snapshot.setdefault(self._group(metric, t.league), {})[code] = value
        ctx = Pass(Cause("trust", "", ""))
        for group, values in snapshot.items():
            group.load(values)
            for code in values:
                if (score := group.score(code)) is not None:
                    self._trusts[code].scores[group.metric.id] = score
                    self._trusts[code].tally.add(*score)
                    ctx.averaged.add(code)
        ctx.resegment.update(self._trusts)
        self._settle(ctx)
        self._cache.clear()

    # -- read side ------------------------------------------------------------------------
    def results(self) -> Results:
        """Every league's results, likely ranges included (cached per unchanged league)."""
        m = self.methodology
        leagues = {}
        for league in m.leagues:
            if league not in self._standings:
                continue
            if league not in self._cache:
                for _ in self.build_league(league, step=0):
                    pass
            leagues[league] = self._cache[league]
        return Results(m.version, leagues)

    def build_league(self, league: str, step: int) -> Iterator[int]:
        """Build one league's results for ``results`` (which then reads them from its cache), yielding
        after every ``step`` trusts whose result had to be rebuilt (0: never), so that a caller can let
        other work run meanwhile. The engine must not change until the iterator is exhausted."""
        if league in self._cache or league not in self._standings:
            return
        self._cache[league] = yield from self._league_result(league, step)

    def _league_result(self, league: str, step: int) -> Generator[int, None, LeagueResult]:
        """One league's results, reusing each trust's result while its own state is unchanged; yields
        how many trusts it rebuilt after every ``step`` of them (see ``build_league``).

        A trust's result depends on its own scores, average, segment, ranks and flags, except for
        its rank range, which also depends on where every other trust stands: that part alone is
        recomputed (two bisections) for a trust whose own state did not move.
        """
        m = self.methodology
        standings = self._standings[league]
        cuts = standings.cuts
        trusts = [self._trusts[c] for c in standings.members]
        sorted_keys = sorted(t.key for t in trusts if t.key is not None)
        entries = []
        rebuilt = 0
        for t in trusts:
            code = t.info.code
            finance, intensive = self._store.deficit_of(code), self._store.intensive.get(code, False)
            signature = (t.info, tuple(sorted(t.scores.items())), t.avg_h, t.state, t.rank, t.urank,
                         finance, intensive, cuts)
            memo = self._results.get(code)
            if memo is None or memo[0] != signature:
                rebuilt += 1
                if step and rebuilt % step == 0:
                    yield rebuilt
                result = trust_result(m, self._core(t), cuts, sorted_keys)
                span = result.average_range
                ends = span and end_keys(m, (to_hundredths(span[0]), to_hundredths(span[1])), cuts,
                                         in_deficit(*finance), intensive)
                self._results[code] = (signature, result, ends)
            else:
                result, ends = memo[1], memo[2]
                if result.rank_range is not None:
                    ranks = ranks_of_keys(ends, t.key, sorted_keys)
                    if ranks != result.rank_range:
                        result = replace(result, rank_range=ranks)
                        self._results[code] = (signature, result, ends)
            entries.append(result)
        return league_of_entries(m, league, entries, cuts)

    def standing(self, trust_code: str) -> Standing | None:
        """One registered trust's published fields as they stand now (§3-§6); None for a trust never
        registered. Cheap: no league is recomputed."""
        t = self._trusts.get(trust_code)
        if t is None:
            return None
        return Standing(
            average=hundredths_decimal(t.avg_h), scored_metrics=t.tally.count,
            applicable_metrics=self._applicable(t.league, trust_code),
            in_deficit=self._store.deficit_of(trust_code)[0],
            intensive_support=self._store.intensive.get(trust_code, False),
            segment=t.state.segment, raw_segment=t.state.raw, capped=t.state.capped,
            rank=t.rank, unadjusted_rank=t.urank)

    def _applicable(self, league: str, code: str) -> int:
        key = (league, code)
        count = self._applicable_counts.get(key)
        if count is None:
            count = self._applicable_counts[key] = len(self.methodology.metrics.scoring_for(league, code))
        return count

    def metric_scores(self, trust_code: str) -> dict[str, Fraction]:
        """One registered trust's metric scores as they stand now (§2)."""
        t = self._trusts.get(trust_code)
        return {} if t is None else {mid: Fraction(*s) for mid, s in t.scores.items()}

    def explain(self, trust_code: str) -> Explanation:
        """The full derivation of one trust's result (§2-§6)."""
        return self.explain_many([trust_code])[trust_code]

    def explain_many(self, trust_codes, known: dict | None = None) -> dict[str, Explanation]:
        """Several derivations at once, positions read from the live metric groups (§2-§6); ``known``:
        per trust, metric lines the caller knows are unchanged (see ``explain_trusts``)."""
        return explain_trusts(self.methodology, self._store, self.results(), trust_codes,
                              positions=self._positions(), lines=self._lines, known=known)

    def line_stamp(self, league: str) -> tuple:
        """What the positions shown in a league's explanation lines stand on (see ``_GroupPositions``):
        while the stamp is unchanged, a trust's line whose own reading and score are unchanged is too."""
        return tuple(sorted((key, _GroupPositions.stamp(group)) for key, group in self._groups.items()
                            if key[0] in (league, ALL_LEAGUES_KEY)))

    def _positions(self) -> Positions:
        """Each value's place from its metric group's sorted order (logarithmic); banded groups,
        which keep no order, sort their peers instead."""
        return _GroupPositions(self._groups, SortedPeers(self.methodology, self._store))

    def _core(self, t: TrustState) -> TrustCore:
        code = t.info.code
        return TrustCore(
            info=t.info, scores={mid: Fraction(*s) for mid, s in t.scores.items()},
            avg_h=t.avg_h, state=t.state, rank=t.rank, unadjusted_rank=t.urank,
            applicable=len(self.methodology.metrics.scoring_for(t.league, code)),
            finance=self._store.deficit_of(code),
            intensive=self._store.intensive.get(code, False))


def group_key(metric: MetricDefinition, league: str) -> tuple[str, str]:
    """Which comparison group a league's value of a metric is placed in (§2): its league's, or all leagues'."""
    return (league if metric.comparison_group == BY_TRUST_TYPE else ALL_LEAGUES_KEY, metric.id)


class _GroupPositions:
    """Positions read from the engine's metric groups, and a version that stands for them: a
    group's positions are unchanged while its version is (explanation lines are reused then)."""

    def __init__(self, groups: dict[tuple[str, str], MetricGroup], fallback: SortedPeers) -> None:
        self.groups, self.fallback = groups, fallback

    def _group(self, metric: MetricDefinition, league: str) -> MetricGroup | None:
        return self.groups.get(group_key(metric, league))

    def __call__(self, metric: MetricDefinition, league: str, code: str, value: Fraction) -> tuple[Fraction, int]:
        group = self._group(metric, league)
        if group is not None and not group.banded and code in group.keys:
            return group.position(code)
        return self.fallback(metric, league, code, value)

    def version(self, metric: MetricDefinition, league: str, code: str) -> tuple | None:
        group = self._group(metric, league)
        if group is None or code not in group.keys:
            return None
        return self.stamp(group)

    @staticmethod
    def stamp(group: MetricGroup) -> tuple:
        if group.mapping == RANK_LINEAR and not group.banded and len(group.order) >= group.min_peers:
            # Every member is scored, and a rank-linear score is 1 + 3 (position - 1) / (n - 1): with
            # the score (which the caller compares too), the group's size fixes the position.
            return ("size", len(group.order))
        return (id(group), group.version)


def _cause(item) -> Cause:
    if isinstance(item, Observation):
        return Cause("observation", item.observation_id, item.trust_code)
    if isinstance(item, Retraction):
        return Cause("retraction", item.change_id, item.trust_code)
    kind = "finance" if isinstance(item, FinanceStatus) else "intensive_support"
    return Cause(kind, item.change_id, item.trust_code)
