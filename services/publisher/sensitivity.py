"""How much each trust's rank depends on the method: its rank under the published method and alternatives.

Computed in the publisher from the read model, off the scorer's hot path. The inputs a league's explanations
show (each trust's latest value of every metric, its finance and intensive-support flags) are scored again from
scratch by the batch methodology (shared.methodology) once per method; each alternative is the published
methodology with one parameter changed, and is named ``<published version>+<key>``. The read model holds metric
values to 2 decimal places, so the recomputed published ranks are compared with the table's
(``reproduces_published``): a value whose third decimal decided a tie shows up there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from statistics import median
from typing import Any

from shared.methodology import FinanceStatus, IntensiveSupport, Methodology, Observation, TrustInfo
from shared.methodology.batch import compute_cores, fold
from shared.methodology.leagues import trust_type_of
from shared.methodology.versions import MIN_MAX, PER_DOMAIN, QUARTILE


@dataclass(frozen=True)
class Alternative:
    key: str
    label: str
    description: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def methodology(self, published: Methodology) -> Methodology:
        if not self.changes:
            return published
        return published.replace(version=f"{published.version}+{self.key}", **self.changes)


PUBLISHED = Alternative("published", "Published method",
                        "rank-linear metric scores, fixed segment cut-offs, equal weight per metric, deficit cap")
ALTERNATIVES = (
    PUBLISHED,
    Alternative("min-max", "Min–max scores",
                "each metric scored in proportion to its value between the group's lowest and highest, "
                "instead of by its rank position", {"mapping": MIN_MAX}),
    Alternative("quartile", "Quartile cut-offs",
                "segment cut-offs at the league's quartiles instead of the fixed 2.10, 2.35 and 2.70",
                {"segment_strategy": QUARTILE}),
    Alternative("domain-weight", "Equal weight per domain",
                "the average of each domain's mean score, instead of every metric weighing the same",
                {"weighting": PER_DOMAIN}),
    Alternative("no-cap", "Without the deficit cap",
                "a trust in financial deficit keeps the segment its average gives", {"financial_cap": None}),
)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def inputs_of(explanations: Mapping[str, Mapping[str, Any]]) -> list:
    """The inputs each explanation shows: one observation per metric line with a value, and the flags."""
    out: list = []
    for code, x in sorted(explanations.items()):
        for line in x.get("metrics") or ():
            value = _decimal(line.get("value"))
            if value is None or not line.get("period") or not line.get("metric_id"):
                continue
            out.append(Observation(code, line["metric_id"], line["period"], value,
                                   f"read-model:{code}:{line['metric_id']}"))
        result = x.get("result") or {}
        deficit = result.get("in_deficit")
        out.append(FinanceStatus(code, deficit if isinstance(deficit, bool) else None,
                                 bool(result.get("receives_deficit_support")), f"read-model:{code}:finance"))
        out.append(IntensiveSupport(code, bool(result.get("intensive_support")), f"read-model:{code}:intensive"))
    return out


def trusts_of(m: Methodology, explanations: Mapping[str, Mapping[str, Any]],
              register: Mapping[str, TrustInfo]) -> dict[str, TrustInfo]:
    """The explained trusts, from the register where it knows them (their league from the explanation)."""
    out = {}
    for code, x in explanations.items():
        league = x.get("league")
        known = register.get(code)
        if known is not None and known.league == league:
            out[code] = known
        elif league in m.leagues:
            out[code] = TrustInfo(code, str(x.get("trust_name") or code), trust_type_of(league))
    return out


def ranks_under(m: Methodology, trusts: Mapping[str, TrustInfo], inputs: list, league: str) -> dict[str, int | None]:
    """League ranks from scratch (§2-§6): the batch path without likely ranges, which ranks do not need."""
    cores, _cuts = compute_cores(m, fold(m, trusts, inputs)).get(league, ([], None))
    return {core.info.code: core.rank for core in cores}


def summary(entries: list[dict[str, Any]], methods: int) -> str:
    ranked = [e for e in entries if e["lowest_rank"] is not None]
    if not ranked:
        return "No trust in this league has a rank yet, so there is nothing to compare."
    moving = sorted((e for e in ranked if e["span"] > 0), key=lambda e: (-e["span"], e["trust_code"]))
    if not moving:
        return (f"Every one of the {len(ranked)} ranked trusts keeps the same rank under all {methods} methods: "
                "here the order does not depend on these choices of method.")
    widest, typical = moving[0], median(e["span"] for e in ranked)
    return (f"{len(moving)} of the {len(ranked)} ranked trusts get a different rank under at least one of the "
            f"{methods} methods; the median trust's rank moves by {typical:g} {'place' if typical == 1 else 'places'}"
            f" and {widest['trust_code']}'s the most, from {widest['lowest_rank']} to {widest['highest_rank']}. "
            "Trusts whose spans overlap cannot be put in order by their rank alone: the order between them "
            "depends on choices of method as much as on performance.")


def sensitivity(m: Methodology, snapshot: Mapping[str, Any], explanations: Mapping[str, Mapping[str, Any]],
                register: Mapping[str, TrustInfo]) -> dict[str, Any]:
    """The sensitivity view of one league: ``snapshot`` as the read model holds it, ``explanations`` of every
    trust the methodology compares it with (the league's, or every league's for a cross-league metric)."""
    league = snapshot["league"]
    trusts = trusts_of(m, explanations, register)
    inputs = inputs_of({c: x for c, x in explanations.items() if c in trusts})
    ranks = {alt.key: ranks_under(alt.methodology(m), trusts, inputs, league) for alt in ALTERNATIVES}
    entries = []
    for entry in snapshot.get("entries") or ():
        code = entry.get("trust_code")
        per_method = {key: by_code.get(code) for key, by_code in ranks.items()}
        shown = [r for r in (entry.get("rank"), *per_method.values()) if r is not None]
        entries.append({
            "trust_code": code, "trust_name": entry.get("trust_name"), "region": entry.get("region"),
            "subtype": entry.get("subtype"), "published_rank": entry.get("rank"), "ranks": per_method,
            "lowest_rank": min(shown, default=None), "highest_rank": max(shown, default=None),
            "span": (max(shown) - min(shown)) if shown else None,
        })
    published = {e["trust_code"]: e.get("rank") for e in snapshot.get("entries") or ()}
    return {
        "league": league, "version": snapshot.get("version"), "methodology_version": m.version,
        "methods": [{"key": a.key, "label": a.label, "description": a.description,
                     "methodology_version": a.methodology(m).version} for a in ALTERNATIVES],
        "reproduces_published": all(ranks[PUBLISHED.key].get(c) == r for c, r in published.items()),
        "note": "Ranks 1 (best) upwards; a span of 0 means the same rank under every method. Computed from "
                "the values in the read model (2 decimal places).",
        "summary": summary(entries, len(ALTERNATIVES)),
        "entries": entries,
    }
