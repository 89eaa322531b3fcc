"""One partition key's scoring: apply inputs to the methodology engine, turn its changes into
versioned change events, and say what to store. Pure: no faust, Kafka or Redis here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from typing import Any, Iterator

from services.scoring import state
from shared.events import (
    Cause,
    ChangeEvent,
    FinanceStatusChanged,
    InputRetracted,
    IntensiveSupportChanged,
    ObservationReceived,
    TrustRef,
    TrustRegistered,
    stable_event_id,
)
from shared.methodology import (
    Change,
    FinanceStatus,
    IncrementalEngine,
    IntensiveSupport,
    Methodology,
    Observation,
    Retraction,
    Standing,
    TrustInfo,
    league_of,
)
from shared.methodology.explain import rank_reasons
from shared.methodology.results import TrustResult, json_safe
from shared.methodology.rounding import hundredths_decimal
from shared.methodology.uncertainty import average_range

#: Which engine change kinds make up each published event type, and the fields each event shows.
#: A metric score that moves without moving the trust's 2-dp average, completeness, segment or rank is
#: not an event of its own (peers' shifts would flood subscribers); it still updates the stored
#: explanation, and it rides along in the assessment event when the average does move.
EVENT_OF_KIND = {
    "completeness": "assessment.changed", "average": "assessment.changed",
    "finance": "assessment.changed", "intensive_support": "assessment.changed",
    # A raw segment or cap that moves without moving the published segment is an assessment change:
    # a segment.changed event always means the segment a reader sees is different.
    "raw_segment": "assessment.changed", "capped": "assessment.changed", "segment": "segment.changed",
    "rank": "rank.changed", "unadjusted_rank": "rank.changed",
}
EVENT_FIELDS = {
    "assessment.changed": ("average", "scored_metrics", "applicable_metrics", "in_deficit",
                           "intensive_support", "raw_segment", "capped"),
    "segment.changed": ("segment", "raw_segment", "capped", "average", "average_range"),
    "rank.changed": ("rank", "unadjusted_rank"),
}
#: A snapshot entry: every result field but the metric scores (those are in the trust's explanation).
ENTRY_FIELDS = tuple(f for f in TrustResult.__dataclass_fields__ if f != "metric_scores")


@dataclass
class Outcome:
    """What one input did: state writes, events to send, leagues and trusts to re-cache."""

    writes: list[tuple[str, bytes]] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    #: league -> (trust code, metric id) of the trusts with inputs of their own and the metric line each
    #: input may move (None: any line of the trust: a registration, a flag, a retraction); a league whose
    #: results moved only through peers is there with no trust
    dirty: dict[str, set[tuple[str, str | None]]] = field(default_factory=lambda: defaultdict(set))
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class ExplainPlan:
    """What a Redis write explains again: ``codes``, and per trust the metric lines known unchanged."""

    codes: list[str]
    known: dict[str, dict] = field(default_factory=dict)


def to_input(event) -> Observation | FinanceStatus | IntensiveSupport | None:  # noqa: ANN001
    code = event.trust.code
    if isinstance(event, ObservationReceived):
        return Observation(code, event.metric_id, event.period, event.value, event.observation_id, event.source)
    if isinstance(event, FinanceStatusChanged):
        return FinanceStatus(code, event.in_deficit, event.receives_deficit_support, event.change_id)
    if isinstance(event, IntensiveSupportChanged):
        return IntensiveSupport(code, event.intensive_support, event.change_id)
    if isinstance(event, InputRetracted):
        return Retraction(event.change_id, code, event.target, event.input_id, event.metric_id, event.period)
    return None


def input_id(event) -> str:  # noqa: ANN001 - an input event
    return getattr(event, "observation_id", None) or event.change_id


def trust_info(ref: TrustRef) -> TrustInfo:
    return TrustInfo(ref.code, ref.name, ref.trust_type, ref.subtype, ref.region)


#: Engine change kind -> the published field it moves (finance moves ``in_deficit``, its first part).
FIELD_OF_KIND = {"completeness": "scored_metrics", "finance": "in_deficit"}


def published(standing: Standing) -> dict[str, Any]:
    d = standing._asdict()
    average = d["average"]
    d["average"] = None if average is None else str(average)
    return d


class PartitionScorer:
    """The engine, league versions and applied input ids of the leagues behind one partition key.

    The engine is the only owner of trust state: the old and new sides of a change event are read
    from it (``IncrementalEngine.standing``) and from the changes it reports, never from a copy here.
    """

    def __init__(self, methodology: Methodology, pk: str, stored: state.StoredState | None = None,
                 versions: dict[str, int] | None = None) -> None:
        self.m = methodology
        self.pk = pk
        stored = stored or state.StoredState(pk)
        self.trusts: dict[str, TrustRef] = dict(stored.trusts)
        # Each key's inputs in force, in order: the reading of a (trust, metric, period), a flag's changes.
        self.inputs: dict[str, list] = {k: list(v) for k, v in stored.inputs.items()}
        self.engine = IncrementalEngine(methodology, {c: trust_info(r) for c, r in self.trusts.items()},
                                        [to_input(e) for e in stored.all_inputs()])
        self.versions: dict[str, int] = dict(versions or {})
        self.ids: dict[str, list[str]] = {k: list(v) for k, v in stored.ids.items()}  # input key -> applied ids
        self.seen: set[str] = {i for ids in self.ids.values() for i in ids}
        self._entries: dict[str, tuple[TrustResult, dict[str, Any]]] = {}  # snapshot entries, by result
        self._explained: dict[str, tuple] = {}  # trust -> the parts of the explanation last returned
        self._stamps: dict[str, tuple] = {}  # league -> its line stamp when its explanations were last checked
        self.updated_at: dict[str, str] = {}

    # -- write side ----------------------------------------------------------------------------
    def apply(self, event) -> Outcome:  # noqa: ANN001 - an input event
        out = Outcome()
        self._register(event.trust, out)
        item = to_input(event)
        if item is None:
            return out
        iid = input_id(event)
        if iid in self.seen:  # a duplicate: the engine's own id check forgets ids across restarts
            return out
        changes = self.engine.apply(item)
        self.seen.add(iid)
        key = self._record(event)
        ids = self.ids.setdefault(key, [])
        ids.append(iid)
        by_league: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            if change.kind in EVENT_OF_KIND or change.kind == "metric_score":
                by_league[change.league].append(change)
        for league, league_changes in by_league.items():
            self._publish(league, league_changes, event, out)
        # The trust's own explanation shows the value and period it sent, even when nothing it
        # publishes moved (a revision that keeps its place).
        line = event.metric_id if isinstance(event, ObservationReceived) else None
        out.dirty[league_of(self.trusts[event.trust.code].trust_type)].add((event.trust.code, line))
        out.writes.append((key, state.encode_input_state(self.inputs.get(key, ()), ids)))
        return out

    def _record(self, event) -> str:  # noqa: ANN001 - an input event the engine just applied
        """Keep the inputs in force under their state key; returns the key. A retraction withdraws what
        the engine withdrew (a reading, or one flag change); one that matched nothing is kept by id only."""
        if not isinstance(event, InputRetracted):
            key = state.input_key(self.pk, event)
            if isinstance(event, ObservationReceived):
                self.inputs[key] = [event]
            else:
                self.inputs.setdefault(key, []).append(event)
            return key
        code = event.trust.code
        if event.target != "observation":
            key = state.flag_key(self.pk, event.target, code)
            kept = [e for e in self.inputs.get(key, []) if e.change_id != event.input_id]
            if len(kept) != len(self.inputs.get(key, [])):
                self.inputs[key] = kept
                return key
        else:
            for key, inputs in self.inputs.items():
                if not inputs or not isinstance(inputs[0], ObservationReceived) or inputs[0].trust.code != code:
                    continue
                o = inputs[0]
                if (o.observation_id == event.input_id if event.input_id is not None
                        else (o.metric_id, o.period) == (event.metric_id, event.period)):
                    self.inputs[key] = []
                    return key
        return state.spent_key(self.pk, code)

    def _register(self, ref: TrustRef, out: Outcome) -> None:
        if self.trusts.get(ref.code) == ref:
            return
        self.trusts[ref.code] = ref
        info = trust_info(ref)
        self.engine.add_trust(info)
        out.writes.append((state.trust_key(self.pk, ref.code), ref.to_bytes()))
        out.dirty[info.league].add((ref.code, None))

    def _publish(self, league: str, changes: list[Change], event, out: Outcome) -> None:  # noqa: ANN001
        # The version counts published changes: an input that only moves metric scores (no event)
        # leaves it alone, so every version has its events.
        version = self.versions.get(league, 0) + 1
        # When ingest accepted the cause: recomputing the same change after a restart gives the same
        # event, byte for byte, not just the same id.
        now = event.accepted_at
        stamp = now.isoformat()
        by_trust: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_trust[change.trust_code].append(change)
        events = []
        out.dirty.setdefault(league, set())  # rewritten; its trusts are found from its results, not named here
        for code, trust_changes in sorted(by_trust.items()):
            self.updated_at[code] = stamp
            types = sorted({EVENT_OF_KIND[c.kind] for c in trust_changes if c.kind in EVENT_OF_KIND})
            if not types:  # only metric scores moved (a peer's value shifted this trust's): no event
                continue
            new = published(self.engine.standing(code))
            old = dict(new)
            for c in reversed(trust_changes):  # undo in reverse: the first change's old value wins
                if c.kind == "metric_score":
                    continue
                if c.kind == "finance":
                    old["in_deficit"] = c.old[0] if c.old else None
                elif (name := FIELD_OF_KIND.get(c.kind, c.kind)) in old:
                    old[name] = json_safe(c.old)
            if any(c.kind == "segment" for c in trust_changes):
                # Likely ranges from the score vectors themselves, so a change recomputed after a
                # restart carries the same ranges (the bootstrap depends on nothing else).
                new_scores = self.engine.metric_scores(code)
                old_scores = dict(new_scores)
                for c in reversed(trust_changes):
                    if c.kind == "metric_score":
                        if c.old is None:
                            old_scores.pop(c.metric_id, None)
                        else:
                            old_scores[c.metric_id] = c.old
                old["average_range"] = self._average_range(code, old_scores)
                new["average_range"] = self._average_range(code, new_scores)
            cause = self._cause(trust_changes[0], code, event)
            for event_type in types:
                fields = EVENT_FIELDS[event_type]
                before, after = {f: old.get(f) for f in fields}, {f: new.get(f) for f in fields}
                if event_type == "assessment.changed":
                    moved = [c for c in trust_changes if c.kind == "metric_score"]
                    before["metric_scores"] = {c.metric_id: json_safe(c.old) for c in moved}
                    after["metric_scores"] = {c.metric_id: json_safe(c.new) for c in moved}
                # Built from the engine's own values, so not validated again (model_construct): the
                # fields are the model's, in its order, and serialise exactly as a validated event.
                events.append(ChangeEvent.model_construct(
                    event_id=stable_event_id(league, version, code, event_type), type=event_type, league=league,
                    league_version=version, methodology_version=self.m.version, trust_code=code,
                    old=before, new=after, cause=cause, occurred_at=now,
                ))
                if event_type in ("segment.changed", "rank.changed"):
                    out.history.append((code, {"type": event_type, "league_version": version, "old": before,
                                               "new": after, "at": stamp, "cause": cause.model_dump()}))
        if events:
            self.versions[league] = version
            out.events.extend(events)
            out.versions[league] = version

    def _average_range(self, code: str, scores: dict[str, Fraction]) -> list[str] | None:
        if not scores:
            return None
        low, high = average_range(self.m.version, self.m.bootstrap_resamples, self.m.likely_range_level, code,
                                  tuple(sorted(scores.items())))
        return [str(hundredths_decimal(low)), str(hundredths_decimal(high))]

    def _cause(self, change: Change, code: str, event) -> Cause:  # noqa: ANN001
        c = change.cause
        return Cause.model_construct(
            kind=c.kind, input_id=c.input_id, trust_code=c.trust_code, own_data=c.trust_code == code,
            metric_id=getattr(event, "metric_id", None), correlation_id=event.correlation_id,
        )

    # -- read side -----------------------------------------------------------------------------
    def leagues(self) -> list[str]:
        return sorted({trust_info(r).league for r in self.trusts.values()})

    def build(self, league: str, step: int) -> Iterator[int]:
        """Build the league's results in steps of ``step`` rebuilt trusts (see IncrementalEngine.build_league):
        ``snapshot`` and the explanations then read them; nothing may be applied until it is exhausted."""
        return self.engine.build_league(league, step)

    def snapshot(self, league: str) -> dict[str, Any]:
        """The league table as the read model stores it (see shared/league_cache.py)."""
        result = self.engine.results().leagues.get(league)
        entries = []
        for r in result.entries if result else ():
            cached = self._entries.get(r.trust_code)
            if cached is None or cached[0] is not r:  # the engine hands back the same object while unchanged
                cached = self._entries[r.trust_code] = (r, {f: json_safe(getattr(r, f)) for f in ENTRY_FIELDS})
            ref = self.trusts.get(r.trust_code)
            entries.append({**cached[1], "region": ref.region if ref else "", "subtype": ref.subtype if ref else "",
                            "updated_at": self.updated_at.get(r.trust_code)})
        return {
            "league": league, "version": self.versions.get(league, 0), "methodology_version": self.m.version,
            "updated_at": datetime.now(timezone.utc).isoformat(), "entries": entries,
        }

    def members(self, league: str) -> list[str]:
        return sorted(c for c, r in self.trusts.items() if trust_info(r).league == league)

    def explanations(self, codes) -> dict[str, dict[str, Any]]:  # noqa: ANN001 - trust codes
        out = {}
        for code, explanation in self.engine.explain_many(sorted(codes)).items():
            out[code] = self._explanation_dict(explanation)
        return out

    def explanation_plan(self, league: str, everything: bool = False, touched=()) -> ExplainPlan:  # noqa: ANN001
        """Which of the league's trusts may have an explanation that differs from the one last returned
        (in code order), and which of their metric lines are known to be unchanged.

        Every trust when ``everything``. Otherwise a trust is a candidate when it has inputs of its own
        (``touched``: (trust code, the metric line an input may move, or None for any)), a new result (scores, average, segment, rank or rank range: the engine keeps the
        result object while they stand) or a new rank reason (ties and the ladder around them), and
        every trust is one when a position shown in some metric line may have moved (that metric's part
        of the engine's line stamp changed). A candidate keeps its last line of every metric whose score
        and stamp are unchanged and that none of its own inputs touched: a line shows the trust's own
        reading and readings received (which only its own inputs change), its score, and its position
        among its peers (which the stamp, with the score, stands for).
        """
        members = self.members(league)
        stamp = dict(self.engine.line_stamp(league))
        last_stamp = self._stamps.get(league)
        self._stamps[league] = stamp
        if everything or last_stamp is None:
            return ExplainPlan(members, {})
        moved = {key[1] for key in stamp.keys() | last_stamp.keys() if stamp.get(key) != last_stamp.get(key)}
        result = self.engine.results().leagues.get(league)
        if result is None:
            return ExplainPlan(members, {})
        entries = {r.trust_code: r for r in result.entries}
        reasons = rank_reasons(result.entries)
        own: dict[str, set[str | None]] = defaultdict(set)
        for code, metric_id in touched:
            own[code].add(metric_id)
        codes, known = [], {}
        for code in members:
            last, r = self._explained.get(code), entries.get(code)
            lines = own.get(code, ())
            if last is None or r is None or None in lines:
                codes.append(code)
                continue
            if lines or moved or last[0] is not r or last[6] != reasons.get(code):
                codes.append(code)
                was, now = last[0].metric_scores, r.metric_scores
                known[code] = {line.metric_id: line for line in last[1] if line.metric_id not in moved
                               and line.metric_id not in lines and was.get(line.metric_id) == now.get(line.metric_id)}
        return ExplainPlan(codes, known)

    def changed_explanations(self, league: str, everything: bool = False, codes: list[str] | None = None,
                             known: dict[str, dict] | None = None) -> dict[str, dict[str, Any]]:
        """The explanations of the league's trusts (or of ``codes`` among them) that differ from the last
        ones this returned (every one when ``everything``).

        A trust's explanation can move without any change of its own: its rank range and rank reason
        follow where its peers stand, and a banded or min-max metric line shows a position that peers'
        values shift without moving its score. So every trust is explained again (unchanged metric
        lines and results are reused by the engine, which makes this cheap) and compared, part by
        part, with what was last returned.
        """
        out = {}
        for code, x in self.engine.explain_many(self.members(league) if codes is None else codes, known).items():
            parts = (x.result, x.metrics, x.trust_name, x.segment_rule, x.cap, x.segment5, x.rank_reason)
            last = self._explained.get(code)
            if everything or last is None or not _same_parts(last, parts):
                self._explained[code] = parts
                out[code] = self._explanation_dict(x)
        return out

    def _explanation_dict(self, explanation) -> dict[str, Any]:  # noqa: ANN001 - an Explanation
        entry = explanation.to_dict()
        entry["version"] = self.versions.get(entry["league"], 0)
        return entry


def _same_parts(a: tuple, b: tuple) -> bool:
    """Results and metric lines by identity (the engine reuses them while unchanged), texts by value."""
    return (a[0] is b[0] and len(a[1]) == len(b[1]) and all(x is y for x, y in zip(a[1], b[1]))
            and a[2:] == b[2:])
